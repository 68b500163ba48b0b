/**
 * Every connection the graph offers, paged through the gateway over the demo firm: for each
 * connection field of the composed API schema (gateway/api-schema.graphql) — the top-level lists
 * and the nested ones (`Customer.contacts`, `Project.timeEntries`, …) — every value of its
 * `orderBy.field` enum × both directions, every row is walked forwards (`first/after`) and
 * backwards (`last/before`): no row missing, none repeated, both walks in the same order, as many
 * rows as `totalCount`. Nullable sort columns (an invoice's issue date, …) sort last. A row is
 * known by its edge's cursor (unique per row and order; some nodes, e.g. BillingRule, have no id).
 *
 * The list of connections and fields is read from the schema, so a connection or a sort field
 * added later is covered without touching this file.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { seed } from "@pshub/db";
import {
  buildSchema,
  type GraphQLField,
  type GraphQLObjectType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isNonNullType,
  isObjectType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const schema = buildSchema(readFileSync(path.join(repoRoot, "gateway/api-schema.graphql"), "utf8"));
const PAGING_ARGS = new Set(["first", "after", "last", "before", "filter", "orderBy"]);

interface ConnectionField {
  /** e.g. "Query.invoices" or "Customer.contacts". */
  label: string;
  parent: GraphQLObjectType;
  field: GraphQLField<unknown, unknown>;
  /** The values of its orderBy.field enum; [undefined] when it takes no orderBy (default order). */
  orderFields: (string | undefined)[];
}

function isConnection(field: GraphQLField<unknown, unknown>): boolean {
  const type = getNamedType(field.type);
  return (
    isObjectType(type) &&
    type.name.endsWith("Connection") &&
    "edges" in type.getFields() &&
    "pageInfo" in type.getFields()
  );
}

function connectionFields(): ConnectionField[] {
  const out: ConnectionField[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    if (type === schema.getSubscriptionType() || type === schema.getMutationType()) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isConnection(field)) continue;
      const orderBy = field.args.find((a) => a.name === "orderBy");
      let orderFields: (string | undefined)[] = [undefined];
      if (orderBy) {
        const input = getNamedType(orderBy.type);
        const enumField = isInputObjectType(input) ? input.getFields().field : undefined;
        const enumType = enumField && getNamedType(enumField.type);
        if (!enumType || !isEnumType(enumType))
          throw new Error(`${type.name}.${field.name}.orderBy`);
        orderFields = enumType.getValues().map((v) => v.name);
      }
      out.push({ label: `${type.name}.${field.name}`, parent: type, field, orderFields });
    }
  }
  return out;
}

const connections = connectionFields();
const queryType = schema.getQueryType() as GraphQLObjectType;

/** Query.<x>(id: ID!) returning `type`, and a top-level connection of `type`. */
function accessOf(type: GraphQLObjectType): { byId: string; list: string } {
  const fields = Object.values(queryType.getFields());
  const byId = fields.find(
    (f) =>
      getNamedType(f.type) === type &&
      f.args.length === 1 &&
      f.args[0]?.name === "id" &&
      isNonNullType(f.args[0].type),
  );
  const list = fields.find((f) => {
    if (!isConnection(f)) return false;
    const node = (getNamedType(f.type) as GraphQLObjectType).getFields().nodes;
    return node !== undefined && getNamedType(node.type) === type;
  });
  if (!byId || !list) throw new Error(`no Query field reaches ${type.name} by id and by list`);
  return { byId: byId.name, list: list.name };
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  const { sql } = stack.database;
  await seed.seedDemo(sql);
  // Drafts (no number, issue or due date yet: NULLs to sort), copied from issued invoices.
  await sql`insert into invoice
    select (jsonb_populate_record(null::invoice, to_jsonb(i) || jsonb_build_object(
      'id', gen_random_uuid(), 'number', null, 'status', 'DRAFT', 'issued_on', null,
      'due_on', null, 'amount_paid', '0', 'erp_number', null))).*
    from (select i, row_number() over (order by i.id) as n from invoice i limit 14) s`;
  // The demo firm has no hub-table history yet: a few rows each, with ties on every sort column.
  await sql`insert into domain_event (type, entity_type, entity_id, actor, occurred_at)
    select 'invoice.created', 'invoice', gen_random_uuid(), 'test', '2026-11-01'::timestamptz + (g % 5) * interval '1 hour'
    from generate_series(1, 23) g`;
  await sql`insert into audit_log (actor, operation, outcome, at)
    select 'test', 'issueInvoice', 'OK', '2026-11-01'::timestamptz + (g % 4) * interval '1 minute'
    from generate_series(1, 23) g`;
  await sql`insert into sync_cursor (connector, object, updated_at)
    select 'connector-' || (g % 3), 'object-' || g, '2026-11-01'::timestamptz + (g % 2) * interval '1 second'
    from generate_series(1, 11) g`;
  await sql`insert into inbox_event (source, dedupe_key, object, payload, received_at)
    select 'salesforce', 'key-' || g, 'Account', '{}'::jsonb, '2026-11-01'::timestamptz + (g % 6) * interval '1 hour'
    from generate_series(1, 23) g`;
  await sql`insert into outbound_command (target, kind, idempotency_key, entity_type, entity_id, next_attempt_at, created_at)
    select 'ERP', 'invoice.post', 'key-' || g, 'invoice', gen_random_uuid(),
      '2026-11-01'::timestamptz + (g % 3) * interval '1 hour', '2026-11-01'::timestamptz + (g % 4) * interval '1 hour'
    from generate_series(1, 23) g`;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

interface Page {
  edges: { cursor: string }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

/** The connection with these arguments (under its parent), with totalCount when `count`. */
type Fetch = (args: string, count?: boolean) => Promise<Page>;

async function gql(query: string, variables: Record<string, unknown> = {}) {
  const { status, json } = await stack.query(query, variables);
  if (status !== 200 || json.errors) {
    throw new Error(`${query}\n→ ${status} ${JSON.stringify(json.errors ?? json)}`);
  }
  return json.data;
}

const PAGE = "edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";

/** A fetcher for the connection: at the root, or under the parent with the most rows. */
async function fetcherFor(c: ConnectionField): Promise<{ fetch: Fetch; where: string }> {
  const name = c.field.name;
  if (c.parent === queryType) {
    return {
      where: "root",
      fetch: async (args, total) =>
        (await gql(`{ c: ${name}${args} { ${PAGE} ${total ? "totalCount" : ""} } }`)).c,
    };
  }
  const { byId, list } = accessOf(c.parent);
  const parents = (await gql(`{ l: ${list}(first: 500) { nodes { id ${name} { totalCount } } } }`))
    .l.nodes as { id: string; [key: string]: unknown }[];
  const count = (p: { [key: string]: unknown }) => (p[name] as { totalCount: number }).totalCount;
  const parent = parents.reduce((best, p) => (count(p) > count(best) ? p : best), parents[0]!);
  return {
    where: `${c.parent.name} ${parent.id} (${count(parent)} rows)`,
    fetch: async (args, total) =>
      (
        await gql(
          `query($id: ID!) { p: ${byId}(id: $id) { c: ${name}${args} { ${PAGE} ${total ? "totalCount" : ""} } } }`,
          {
            id: parent.id,
          },
        )
      ).p.c,
  };
}

function argsOf(paging: Record<string, string | number>, orderBy?: string): string {
  const parts = Object.entries(paging).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  if (orderBy) parts.push(`orderBy: { ${orderBy} }`);
  return `(${parts.join(", ")})`;
}

/** Every row forwards, then backwards; both must list the same rows in the same order. */
async function walk(fetch: Fetch, orderBy: string | undefined, label: string) {
  const total = (await fetch(argsOf({ first: 0 }, orderBy), true)).totalCount;
  const size = Math.min(500, Math.max(2, Math.ceil(total / 4)));
  const forward: string[] = [];
  let after: string | null = null;
  for (let guard = 0; ; guard++) {
    expect(guard, `${label}: forward walk does not end`).toBeLessThan(total + 2);
    const page: Page = await fetch(
      argsOf(after ? { first: size, after } : { first: size }, orderBy),
    );
    forward.push(...page.edges.map((e) => e.cursor));
    expect(page.pageInfo.hasPreviousPage, `${label}: hasPreviousPage`).toBe(after !== null);
    if (!page.pageInfo.hasNextPage) break;
    expect(page.edges.length, `${label}: a full page before the end`).toBe(size);
    after = page.pageInfo.endCursor;
  }
  const backward: string[] = [];
  let before: string | null = null;
  for (let guard = 0; ; guard++) {
    expect(guard, `${label}: backward walk does not end`).toBeLessThan(total + 2);
    const page: Page = await fetch(
      argsOf(before ? { last: size, before } : { last: size }, orderBy),
    );
    backward.unshift(...page.edges.map((e) => e.cursor));
    expect(page.pageInfo.hasNextPage, `${label}: hasNextPage`).toBe(before !== null);
    if (!page.pageInfo.hasPreviousPage) break;
    before = page.pageInfo.startCursor;
  }
  expect(new Set(forward).size, `${label}: a row repeated going forwards`).toBe(forward.length);
  expect(forward.length, `${label}: rows missing going forwards`).toBe(total);
  expect(backward, `${label}: backwards differs from forwards`).toEqual(forward);
  // The tail (where NULLs sort) once more in pages of 2, from a cursor inside it, both ways.
  const tail = Math.min(10, total - 1);
  if (tail < 2) return;
  const start = forward[total - tail - 1] as string;
  const fine: string[] = [];
  for (let cursor = start, more = true; more; ) {
    const page: Page = await fetch(argsOf({ first: 2, after: cursor }, orderBy));
    fine.push(...page.edges.map((e) => e.cursor));
    more = page.pageInfo.hasNextPage;
    cursor = page.pageInfo.endCursor as string;
  }
  expect(fine, `${label}: the tail in pages of 2`).toEqual(forward.slice(total - tail));
  const fineBack: string[] = [];
  for (let cursor: string | null = null; ; ) {
    const page: Page = await fetch(
      argsOf(cursor ? { last: 2, before: cursor } : { last: 2 }, orderBy),
    );
    fineBack.unshift(...page.edges.map((e) => e.cursor));
    if (fineBack.length >= tail + 2 || !page.pageInfo.hasPreviousPage) break;
    cursor = page.pageInfo.startCursor;
  }
  expect(fineBack.slice(-tail - 2), `${label}: the tail backwards in pages of 2`).toEqual(
    forward.slice(Math.max(0, total - tail - 2)),
  );
}

describe("every connection × every orderBy field × both directions pages every row", () => {
  it("finds the graph's connections in the composed schema", async () => {
    const labels = connections.map((c) => c.label);
    expect(labels).toContain("Query.invoices");
    expect(labels).toContain("Customer.contacts");
    const invoices = connections.find((c) => c.label === "Query.invoices");
    expect(invoices?.orderFields).toEqual(
      expect.arrayContaining(["ISSUED_ON", "DUE_ON", "CREATED_AT"]),
    );
    expect(connections.length).toBeGreaterThan(30);
    // Nullable sort columns have NULLs to sort: drafts have no issue or due date yet.
    const [counted] = await stack.database.sql<{ drafts: number }[]>`
      select count(*)::int as drafts from invoice where issued_on is null and due_on is null`;
    expect(counted?.drafts).toBeGreaterThan(0);
    for (const c of connections) {
      const required = c.field.args.filter(
        (a) => !PAGING_ARGS.has(a.name) && isNonNullType(a.type),
      );
      expect(
        required.map((a) => a.name),
        c.label,
      ).toEqual([]);
    }
  });

  for (const c of connections) {
    it(c.label, async () => {
      const { fetch, where } = await fetcherFor(c);
      const total = (await fetch(argsOf({ first: 0 }), true)).totalCount;
      // Every list of the demo firm has rows (an empty one would prove nothing).
      expect(total, `${c.label} under ${where} has no rows`).toBeGreaterThan(0);
      for (const field of c.orderFields) {
        for (const direction of field ? ["ASC", "DESC"] : [undefined]) {
          const orderBy = field ? `field: ${field}, direction: ${direction}` : undefined;
          await walk(fetch, orderBy, `${c.label} (${where}) ${orderBy ?? "default order"}`);
        }
      }
      // Sequential walks; generous for a busy machine (alone: seconds per connection).
    }, 300_000);
  }
});
