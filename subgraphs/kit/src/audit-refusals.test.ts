/**
 * A mutation refused before its operation runs (a role check: FORBIDDEN) still leaves an audit
 * row, written by the kit for every subgraph: principal, roles, request id, arguments and their
 * hash, the code. Queries are not audited; other codes are the operation's own to audit.
 */
import { randomUUID } from "node:crypto";
import { createLogger } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { GraphQLError, parse } from "graphql";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSubgraphServer } from "./server.ts";

const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { secret: String }
  type Mutation {
    voidThing(id: ID!, reason: String!, idempotencyKey: String): String
    failThing(id: ID!): String
  }
`);

const forbidden = () => new GraphQLError("not for you", { extensions: { code: "FORBIDDEN" } });

let t: TestDatabase;
let server: ReturnType<typeof createSubgraphServer>;
beforeAll(async () => {
  t = await createTestDatabase();
  server = createSubgraphServer({
    name: "audit-test",
    typeDefs,
    resolvers: {
      Query: { secret: () => Promise.reject(forbidden()) },
      Mutation: {
        voidThing: () => Promise.reject(forbidden()),
        failThing: () =>
          Promise.reject(new GraphQLError("conflict", { extensions: { code: "CONFLICT" } })),
      },
    },
    db: t.db,
    logger: createLogger("audit-test", "silent"),
  });
});
afterAll(async () => {
  await t?.drop();
});

const rowsOf = (requestId: string) => t.sql`
  select actor, roles, operation, input, input_hash, outcome from audit_log
  where request_id = ${requestId}`;

it("a FORBIDDEN mutation (under an alias, with variables) is audited with principal, roles, request id, input and hash", async () => {
  const requestId = randomUUID();
  const id = randomUUID();
  const result = await server.execute(
    `mutation($id: ID!) { v: voidThing(id: $id, reason: "dup", idempotencyKey: "k1") }`,
    { id },
    {
      "x-pshub-principal": "sales@firm.test",
      "x-pshub-roles": "sales",
      "x-correlation-id": requestId,
    },
  );
  expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  const rows = await rowsOf(requestId);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    actor: "sales@firm.test",
    roles: ["sales"],
    operation: "voidThing",
    outcome: "FORBIDDEN",
    input: { input: { id, reason: "dup", idempotencyKey: "k1" }, requestId },
  });
  expect(rows[0]!.input_hash).toMatch(/^[0-9a-f]{64}$/);

  // The same arguments with another idempotency key hash alike (the key is not the input).
  const second = randomUUID();
  await server.execute(
    `mutation($id: ID!) { voidThing(id: $id, reason: "dup", idempotencyKey: "k2") }`,
    { id },
    {
      "x-pshub-principal": "sales@firm.test",
      "x-pshub-roles": "sales",
      "x-correlation-id": second,
    },
  );
  const [again] = await rowsOf(second);
  expect(again!.input_hash).toBe(rows[0]!.input_hash);
});

it("a refused query, and a mutation error the operation audits itself, are not written here", async () => {
  const query = randomUUID();
  const q = await server.execute(`{ secret }`, {}, { "x-correlation-id": query });
  expect(q.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  expect(await rowsOf(query)).toHaveLength(0);
  const conflict = randomUUID();
  const m = await server.execute(
    `mutation { failThing(id: "${randomUUID()}") }`,
    {},
    { "x-correlation-id": conflict },
  );
  expect(m.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  expect(await rowsOf(conflict)).toHaveLength(0);
});
