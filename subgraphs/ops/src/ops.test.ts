/**
 * The exception queue through the ops subgraph: the connection, its filters, entities by key,
 * SyncException.entity stubs, and coded answers to bad input.
 */
import { syncException } from "@pshub/db/schema";
import { builders, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import {
  listen,
  type OperationResult,
  type RunningSubgraph,
  type SubgraphServer,
  undocumented,
} from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpsSubgraph } from "./index.ts";
import type { OpsLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<OpsLoaders>;
let running: RunningSubgraph;

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables);

beforeAll(async () => {
  t = await createTestDatabase();
  const b = builders(t.db);
  // Exception queue: 4 owners × statuses; the first four long overdue, the others due in 10 years.
  const owners = ["FINANCE", "PROJECT_OPS", "SALES_OPS", "INTEGRATION"] as const;
  for (let i = 0; i < 12; i++) {
    await b.syncException({
      owner: owners[i % 4],
      severity: i % 3 === 0 ? "HIGH" : "LOW",
      status: i < 8 ? "OPEN" : "RESOLVED",
      dueAt: new Date(Date.UTC(2026, 0, 1 + i) + (i < 4 ? 0 : 365 * 86400_000 * 10)),
    });
  }
  server = createOpsSubgraph(t.db);
  running = await listen(server, { port: 0 });
});

afterAll(async () => {
  await running?.close();
  await t?.drop();
});

describe("schema", () => {
  it("describes every type, field and enum value (the IDE is the analysts' documentation)", () => {
    expect(undocumented(server.schema)).toEqual([]);
  });
});

describe("the exception queue", () => {
  it("serves it by owner, status and severity, earliest due first", async () => {
    const result = await run(
      `{ syncExceptions(filter: { owner: [FINANCE, PROJECT_OPS], status: [OPEN] }, first: 50) {
        totalCount nodes { owner status dueAt overdue } } }`,
    );
    expect(result.errors).toBeUndefined();
    const conn = result.data?.syncExceptions;
    expect(conn.totalCount).toBe(4);
    const due = conn.nodes.map((n: { dueAt: string }) => n.dueAt);
    expect(due).toEqual([...due].sort());
    expect(conn.nodes.map((n: { overdue: boolean }) => n.overdue)).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const overdue = await run(
      `{ syncExceptions(filter: { overdue: true, severity: [HIGH] }) { totalCount } }`,
    );
    expect(overdue.data?.syncExceptions.totalCount).toBe(2);
  });

  it("resolves a SyncException by key (_entities contract test)", async () => {
    const [exception] = await t.db.select().from(syncException).limit(1);
    const result = await run(
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
        __typename ... on SyncException { id owner code remediation dueAt overdue } } }`,
      {
        reps: [
          { __typename: "SyncException", id: exception!.id },
          { __typename: "SyncException", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "SyncException", id: "not-a-uuid" },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    const [x, missing, malformed] = result.data?._entities ?? [];
    expect(x).toMatchObject({
      __typename: "SyncException",
      id: exception!.id,
      code: "MAPPING_FAILED",
    });
    expect(typeof x.overdue).toBe("boolean");
    expect(missing).toBeNull();
    expect(malformed).toBeNull();
  });

  it("points SyncException.entity at the entity concerned, as a key stub its owner resolves", async () => {
    const b = builders(t.db);
    const invoiceId = "11111111-1111-4111-8111-111111111111";
    const eventId = "22222222-2222-4222-8222-222222222222";
    const rows = await Promise.all([
      b.syncException({ owner: "SALES_OPS", entityType: "invoice", entityId: invoiceId }),
      b.syncException({ owner: "SALES_OPS", entityType: "billing_event", entityId: eventId }),
      b.syncException({ owner: "SALES_OPS", entityType: "ledger", entityId: invoiceId }),
      b.syncException({ owner: "SALES_OPS" }),
    ]);
    const result = await run(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on SyncException {
        entity { __typename ... on Invoice { id } ... on BillingEvent { id } }
      } } }`,
      { reps: rows.map((row) => ({ __typename: "SyncException", id: row.id })) },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities.map((e: { entity: unknown }) => e.entity)).toEqual([
      { __typename: "Invoice", id: invoiceId },
      { __typename: "BillingEvent", id: eventId },
      null,
      null,
    ]);
  });
});

describe("bad input", () => {
  async function post(body: unknown) {
    const response = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as OperationResult };
  }

  it("answers unknown ids, bad filters and bad instants with coded errors", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [`{ syncException(id: "00000000-0000-4000-8000-000000000000") { id } }`, {}, "NOT_FOUND"],
      [`{ syncException(id: "nope") { id } }`, {}, "BAD_USER_INPUT"],
      [`{ syncExceptions(filter: { entityId: "x" }) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [
        `query($d: DateTime) { syncExceptions(filter: { dueBefore: $d }) { totalCount } }`,
        { d: "yesterday" },
        "BAD_USER_INPUT",
      ],
      [
        `{ syncExceptions(filter: { dueBefore: "yesterday" }) { totalCount } }`,
        {},
        "BAD_USER_INPUT", // the scalar's own code, as for the variable
      ],
    ];
    for (const [query, variables, code] of cases) {
      const { status, body } = await post({ query, variables });
      expect(status, query).toBeLessThan(500);
      expect(body.errors?.[0]?.extensions?.code, query).toBe(code);
    }
  });
});
