/**
 * The audit trail through the gateway (issue 9 item 6): every mutation of the composed API schema
 * — generated from it, so a new mutation is covered without editing this file — leaves exactly one
 * audit row for its request, with the principal, its roles, the request's correlation id, an input
 * hash and the outcome the caller was answered (a refusal's code, or ok). A successful mutation's
 * input hash is sha256 of its operation and canonical input, so a retry of it hashes alike. auditLog(filter) finds them by request
 * and role. UPDATE, DELETE and TRUNCATE on audit_log fail for the role the services connect as.
 */
import { createHash, randomUUID } from "node:crypto";
import { seedBasics, wonOpportunity } from "@pshub/db/testing";
import {
  type GraphQLField,
  type GraphQLInputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A value of the right shape for a required input: ids are fresh uuids (so: nothing found). */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]?.value;
  if (isInputObjectType(type))
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
        .map((f) => [f.name, sample(f.type)]),
    );
  const named = getNamedType(type);
  if (!isScalarType(named)) return null;
  switch (named.name) {
    case "ID":
      return randomUUID();
    case "Int":
      return 1;
    case "Float":
      return 1;
    case "Boolean":
      return true;
    case "Decimal":
      return "1.00";
    case "Date":
      return "2026-01-15";
    case "DateTime":
      return "2026-01-15T10:00:00Z";
    default:
      return "audit test";
  }
}

/** A mutation document selecting only __typename (every payload type has it). */
function call(field: GraphQLField<unknown, unknown>) {
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const definitions = required.map((a) => `$${a.name}: ${a.type.toString()}`).join(", ");
  const args = required.map((a) => `${a.name}: $${a.name}`).join(", ");
  const query = `mutation${definitions ? `(${definitions})` : ""} { ${field.name}${args ? `(${args})` : ""} { __typename } }`;
  return { query, variables: Object.fromEntries(required.map((a) => [a.name, sample(a.type)])) };
}

interface AuditRow {
  actor: string;
  roles: string[];
  operation: string;
  input_hash: string | null;
  outcome: string;
  request_id: string | null;
}

const rowsOf = async (requestId: string): Promise<AuditRow[]> =>
  (await stack.database.sql`
    select actor, roles, operation, input_hash, outcome, request_id from audit_log
    where request_id = ${requestId}`) as unknown as AuditRow[];

describe("an audit row for every mutation", () => {
  it("each mutation of the API schema, refused or not: principal, roles, request id, input hash, outcome", async () => {
    const mutations = Object.values(stack.gateway.schema()!.getMutationType()!.getFields());
    expect(mutations.length).toBeGreaterThan(15);
    const outcomes: Record<string, string> = {};
    for (const field of mutations) {
      const requestId = randomUUID();
      const principal = `auditor-${field.name}@firm.test`;
      const { query, variables } = call(field);
      const { json } = await stack.query(query, variables, {
        "x-pshub-principal": principal,
        "x-pshub-roles": "admin,finance",
        "x-correlation-id": requestId,
      });
      const code = (json.errors?.[0]?.extensions?.code as string | undefined) ?? "ok";
      const label = `${field.name}: ${JSON.stringify(json).slice(0, 300)}`;
      expect(code, label).not.toBe("INTERNAL_SERVER_ERROR");
      const rows = await rowsOf(requestId);
      expect(rows, label).toHaveLength(1);
      expect(rows[0], label).toMatchObject({
        actor: principal,
        roles: ["admin", "finance"],
        outcome: code,
        request_id: requestId,
      });
      expect(rows[0]!.input_hash, label).toMatch(/^[0-9a-f]{64}$/);
      // The operation that ran: the field's own, or the set operation a one-item field wraps
      // (approveTimeEntry runs approveTimeEntries with one id).
      expect([field.name, `${field.name}s`, field.name.replace(/y$/, "ies")], label).toContain(
        rows[0]!.operation,
      );
      outcomes[field.name] = code;
    }
    // Fresh ids find nothing: these are refusals, audited like successes.
    expect(Object.values(outcomes).filter((o) => o !== "ok").length).toBeGreaterThan(10);
  }, 120_000);

  it("a successful mutation: outcome ok, the input hash is the idempotency request hash", async () => {
    const basics = await seedBasics(stack.db);
    const opportunityId = await wonOpportunity(stack.db, basics);
    const requestId = randomUUID();
    const { json } = await stack.query(
      `mutation($id: ID!) { convertOpportunity(opportunityId: $id) { contract { id } } }`,
      { id: opportunityId },
      {
        "x-pshub-principal": "sales@firm.test",
        "x-pshub-roles": "sales",
        "x-correlation-id": requestId,
      },
    );
    expect(json.errors, JSON.stringify(json.errors)).toBeUndefined();
    const [row] = await rowsOf(requestId);
    expect(row).toMatchObject({
      actor: "sales@firm.test",
      roles: ["sales"],
      operation: "convertOpportunity",
      outcome: "ok",
      // sha256 of "<operation>\n<canonical JSON of the input>" (no idempotency key in it).
      input_hash: createHash("sha256")
        .update(`convertOpportunity\n${JSON.stringify({ opportunityId })}`)
        .digest("hex"),
    });
    // The same input refused the second time (already converted): the same hash, another outcome.
    const again = randomUUID();
    const second = await stack.query(
      `mutation($id: ID!) { convertOpportunity(opportunityId: $id) { contract { id } } }`,
      { id: opportunityId },
      {
        "x-pshub-principal": "sales@firm.test",
        "x-pshub-roles": "sales",
        "x-correlation-id": again,
      },
    );
    const code = second.json.errors?.[0]?.extensions?.code;
    expect(code).toBeDefined();
    const [refused] = await rowsOf(again);
    expect(refused).toMatchObject({ outcome: code, input_hash: row!.input_hash });
  });

  it("auditLog(filter) finds a request's rows and a role's rows", async () => {
    const requestId = randomUUID();
    await stack.query(
      `mutation($id: ID!) { voidInvoice(invoiceId: $id, reason: "audit filter test") { id } }`,
      { id: randomUUID() },
      {
        "x-pshub-principal": "fin@firm.test",
        "x-pshub-roles": "finance",
        "x-correlation-id": requestId,
      },
    );
    const { json } = await stack.query(
      `query($r: ID!) { byRequest: auditLog(filter: { requestId: $r }) { totalCount nodes { actor roles operation outcome requestId inputHash } }
        byRole: auditLog(filter: { role: "finance", requestId: $r }) { totalCount }
        otherRole: auditLog(filter: { role: "delivery", requestId: $r }) { totalCount } }`,
      { r: requestId },
      { "x-pshub-principal": "admin@firm.test", "x-pshub-roles": "admin" },
    );
    expect(json.errors).toBeUndefined();
    expect(json.data.byRequest.totalCount).toBe(1);
    expect(json.data.byRequest.nodes[0]).toMatchObject({
      actor: "fin@firm.test",
      roles: ["finance"],
      operation: "voidInvoice",
      outcome: "NOT_FOUND",
      requestId,
    });
    expect(json.data.byRole.totalCount).toBe(1);
    expect(json.data.otherRole.totalCount).toBe(0);
  });
});

describe("a mutation a role may not run (FORBIDDEN, issue 9 item 3) is audited", () => {
  it("voidInvoice by delivery: FORBIDDEN, nothing changed, one audit row with the code", async () => {
    const requestId = randomUUID();
    const { json } = await stack.query(
      `mutation($id: ID!) { voidInvoice(invoiceId: $id, reason: "not mine") { id } }`,
      { id: randomUUID() },
      {
        "x-pshub-principal": "pm@firm.test",
        "x-pshub-roles": "delivery",
        "x-correlation-id": requestId,
      },
    );
    expect(json.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await rowsOf(requestId)).toMatchObject([
      {
        actor: "pm@firm.test",
        roles: ["delivery"],
        operation: "voidInvoice",
        outcome: "FORBIDDEN",
      },
    ]);
  });
});

describe("mutations the gateway refuses (no subgraph called) are audited by the gateway", () => {
  it("a bad Decimal variable (BAD_USER_INPUT) and a validation failure: one row each, with the code", async () => {
    const bad = randomUUID();
    const invoiceId = randomUUID();
    const refused = await stack.query(
      `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { __typename } }`,
      { input: { invoiceId, amount: "12.3.4" } },
      { "x-pshub-principal": "fin@firm.test", "x-pshub-roles": "finance", "x-correlation-id": bad },
    );
    expect(refused.json.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const [row] = await rowsOf(bad);
    expect(row).toMatchObject({
      actor: "fin@firm.test",
      roles: ["finance"],
      operation: "recordPayment",
      outcome: "BAD_USER_INPUT",
      request_id: bad,
    });
    expect(row!.input_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await rowsOf(bad)).toHaveLength(1);

    const invalid = randomUUID();
    const v = await stack.query(
      `mutation { voidInvoice(invoiceId: "${invoiceId}", reason: "r") { noSuchField } }`,
      {},
      {
        "x-pshub-principal": "fin@firm.test",
        "x-pshub-roles": "finance",
        "x-correlation-id": invalid,
      },
    );
    expect(v.json.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(await rowsOf(invalid)).toMatchObject([
      { operation: "voidInvoice", outcome: "GRAPHQL_VALIDATION_FAILED" },
    ]);

    // A query refused the same way is not audited.
    const query = randomUUID();
    await stack.query(`{ invoices(first: 1) { noSuchField } }`, {}, { "x-correlation-id": query });
    expect(await rowsOf(query)).toHaveLength(0);
  });
});

describe("audit rows are append-only", () => {
  it("UPDATE, DELETE and TRUNCATE fail for the services' database role; rows stay as written", async () => {
    const sql = stack.database.sql;
    const [{ role }] = (await sql`select current_user as role`) as unknown as [{ role: string }];
    // The role the subgraphs of this stack connect as (the same URL).
    const [{ n: before }] = (await sql`select count(*)::int as n from audit_log`) as unknown as [
      { n: number },
    ];
    expect(before).toBeGreaterThan(0);
    for (const statement of [
      "update audit_log set outcome = 'ok'",
      "delete from audit_log",
      "truncate audit_log",
    ]) {
      const error = await sql.unsafe(statement).then(
        () => undefined,
        (e: { code?: string; message?: string }) => e,
      );
      expect(error, `${statement} as ${role}`).toBeDefined();
      expect(error?.code, statement).toBe("42501");
      expect(error?.message).toMatch(/audit_log is append-only/);
    }
    const [{ n: after }] = (await sql`select count(*)::int as n from audit_log`) as unknown as [
      { n: number },
    ];
    expect(after).toBe(before);
  });
});
