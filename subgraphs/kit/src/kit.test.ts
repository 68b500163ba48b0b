import { createLogger, DomainError } from "@pshub/db";
import { auditLog, contact, customer, legalEntity } from "@pshub/db/schema";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { eq, inArray } from "drizzle-orm";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SubgraphContext } from "./context.ts";
import { anyOf, castType, inList } from "./filters.ts";
import { RequestLoaders } from "./loaders.ts";
import {
  type Connection,
  createConnectionLoader,
  encodeCursor,
  type ListSpec,
  paginate,
} from "./pagination.ts";
import { DecimalScalar } from "./scalars.ts";
import { createSubgraphServer, listen, type RunningSubgraph } from "./server.ts";

const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  scalar Decimal
  scalar DateTime
  enum OrderDirection { ASC DESC }
  enum CustomerOrderField { NAME CREATED_AT }
  input CustomerOrder { field: CustomerOrderField!, direction: OrderDirection! }
  input CustomerFilter { status: [String!] }
  type PageInfo { hasNextPage: Boolean!, hasPreviousPage: Boolean!, startCursor: String, endCursor: String }
  type Customer @key(fields: "id") {
    id: ID!
    name: String!
    contacts(first: Int, after: String, last: Int, before: String): ContactConnection!
  }
  type Contact @key(fields: "id") { id: ID!, name: String!, customer: Customer }
  type CustomerEdge { cursor: String!, node: Customer! }
  type CustomerConnection { edges: [CustomerEdge!]!, nodes: [Customer!]!, pageInfo: PageInfo!, totalCount: Int! }
  type ContactEdge { cursor: String!, node: Contact! }
  type ContactConnection { edges: [ContactEdge!]!, pageInfo: PageInfo!, totalCount: Int! }
  type Query {
    customers(first: Int, after: String, last: Int, before: String, filter: CustomerFilter, orderBy: CustomerOrder): CustomerConnection!
    fail(kind: String!): String
    whoami: String!
    amount(value: Decimal!): Decimal!
  }
`);

const customerList: ListSpec<typeof customer, { status?: string[] | null }> = {
  name: "Customer",
  table: customer,
  id: customer.id,
  orderFields: { NAME: customer.name, CREATED_AT: customer.createdAt },
  defaultOrder: { field: "NAME", direction: "ASC" },
  where: (f) => (f.status?.length ? inArray(customer.status, f.status as never) : undefined),
};
const contactList: ListSpec<typeof contact> = {
  name: "Contact",
  table: contact,
  id: contact.id,
  orderFields: { NAME: contact.name },
  defaultOrder: { field: "NAME", direction: "ASC" },
};

type Ctx = SubgraphContext;
const resolvers = {
  Query: {
    customers: (_: unknown, args: object, ctx: Ctx, info: never) =>
      paginate(ctx.db, customerList, args, { info, warn: ctx.warn, scope: ctx.scope }),
    fail: (_: unknown, { kind }: { kind: string }) => {
      if (kind === "domain")
        throw new DomainError("INVALID_TRANSITION", "cannot go from A to B", { from: "A" });
      if (kind === "sql") return "x";
      throw new Error("secret internal detail");
    },
    whoami: (_: unknown, __: unknown, ctx: Ctx) => ctx.principal,
    amount: (_: unknown, { value }: { value: string }) => value,
  },
  Customer: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.loaders.byId(customer).load(ref.id),
    contacts: (parent: { id: string }, args: object, ctx: Ctx, info: never) =>
      ctx.loaders.connection(contactList, contact.customerId, parent.id, args, info),
  },
  Contact: {
    customer: (parent: { customerId: string }, _: unknown, ctx: Ctx) =>
      ctx.loaders.byId(customer).load(parent.customerId),
  },
};

let t: TestDatabase;
const statements: string[] = [];
let server: ReturnType<typeof createSubgraphServer>;
let running: RunningSubgraph;
let customerIds: string[] = [];

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables, { "x-pshub-principal": "tester" });

beforeAll(async () => {
  t = await createTestDatabase({ onQuery: (q) => statements.push(q) });
  const [le] = await t.db
    .insert(legalEntity)
    .values({
      code: "US1",
      name: "Firm US",
      country: "US",
      currency: "USD",
      taxJurisdiction: "US-NY",
      invoicePrefix: "US",
    })
    .returning();
  // 137 customers, names with ties (every name twice) so the id tie-breaker matters.
  const rows = Array.from({ length: 137 }, (_, i) => ({
    name: `Customer ${String(Math.floor(i / 2)).padStart(3, "0")}`,
    currency: "USD",
    legalEntityId: le!.id,
    status: (i % 3 === 0 ? "ON_HOLD" : "ACTIVE") as "ON_HOLD" | "ACTIVE",
  }));
  const inserted = await t.db.insert(customer).values(rows).returning({ id: customer.id });
  customerIds = inserted.map((r) => r.id);
  // 0..4 contacts per customer
  const contacts = customerIds.flatMap((id, i) =>
    Array.from({ length: i % 5 }, (_, n) => ({ customerId: id, name: `Contact ${n}` })),
  );
  await t.db.insert(contact).values(contacts);
  server = createSubgraphServer({
    name: "kit-test",
    typeDefs,
    resolvers,
    db: t.db,
    logger: createLogger("kit-test", "silent"), // the INTERNAL_SERVER_ERROR case logs on purpose
  });
  running = await listen(server, { port: 0 });
});

afterAll(async () => {
  await running?.close();
  await t?.drop();
});

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: CustomerOrder, $filter: CustomerFilter) {
  customers(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, filter: $filter) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe("keyset pagination", () => {
  it("pages forward through every row exactly once, in (name, id) order", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const result = await run(PAGE, { first: 20, after });
      expect(result.errors).toBeUndefined();
      const conn = result.data!.customers;
      expect(conn.totalCount).toBe(137);
      seen.push(...conn.edges.map((e: { node: { id: string } }) => e.node.id));
      pages++;
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(pages).toBe(7);
    expect(seen).toHaveLength(137);
    expect(new Set(seen).size).toBe(137);
    const expected = await t.sql<{ id: string }[]>`select id from customer order by name, id`;
    expect(seen).toEqual(expected.map((r) => r.id));
  });

  it("pages backward with last/before, DESC order, and by a timestamp", async () => {
    const orderBy = { field: "CREATED_AT", direction: "DESC" };
    const seen: string[] = [];
    let before: string | null = null;
    for (;;) {
      const result = await run(PAGE, { last: 30, before, orderBy });
      expect(result.errors).toBeUndefined();
      const conn = result.data!.customers;
      seen.unshift(...conn.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!conn.pageInfo.hasPreviousPage) break;
      before = conn.pageInfo.startCursor;
    }
    const expected = await t.sql<{ id: string }[]>`
      select id from customer order by created_at desc, id desc`;
    expect(seen).toEqual(expected.map((r) => r.id));
  });

  it("filters, and counts only the filtered rows", async () => {
    const result = await run(PAGE, { first: 500, filter: { status: ["ON_HOLD"] } });
    expect(result.data!.customers.totalCount).toBe(46);
    expect(result.data!.customers.edges).toHaveLength(46);
  });

  it("first: 0 gives no edges but a true hasNextPage and the count", async () => {
    const result = await run(PAGE, { first: 0 });
    expect(result.data!.customers.edges).toEqual([]);
    expect(result.data!.customers.pageInfo.hasNextPage).toBe(true);
    expect(result.data!.customers.totalCount).toBe(137);
  });

  it("caps a huge page at 500 and says so in extensions.warnings", async () => {
    const result = await run(PAGE, { first: 100000 });
    expect(result.errors).toBeUndefined();
    expect(result.data!.customers.edges).toHaveLength(137);
    expect(String(result.extensions?.warnings)).toMatch(/capped at 500/);
  });

  it("rejects malformed cursors, negative sizes and conflicting arguments with BAD_USER_INPUT", async () => {
    for (const variables of [
      { first: 5, after: "not-a-cursor!!" },
      { first: 5, after: Buffer.from("{}").toString("base64url") },
      { first: -1 },
      { first: 1, last: 1 },
      {
        first: 5,
        after: encodeCursor({ f: "CREATED_AT", d: "ASC", v: "x", i: customerIds[0]! }),
      },
    ]) {
      const result = await run(PAGE, variables);
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe(
        "BAD_USER_INPUT",
      );
    }
  });

  it("a cursor with a sort value Postgres cannot read is BAD_USER_INPUT, not a 500", async () => {
    const after = encodeCursor({ f: "CREATED_AT", d: "DESC", v: "yesterday-ish", i: "nope" });
    const result = await run(PAGE, {
      first: 5,
      after,
      orderBy: { field: "CREATED_AT", direction: "DESC" },
    });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0]?.message).not.toMatch(/select|Failed query/i);
  });
});

describe("keyset pagination over a nullable column (NULLS LAST both ways)", () => {
  const byJurisdiction: ListSpec<typeof customer> = {
    name: "Customer",
    table: customer,
    id: customer.id,
    orderFields: { JURISDICTION: customer.taxJurisdiction },
    defaultOrder: { field: "JURISDICTION", direction: "ASC" },
  };
  type Page = Connection<{ id: string }>;
  type Fetch = (args: Record<string, unknown>) => Promise<Page>;
  const top: Fetch = (args) =>
    paginate(t.db, byJurisdiction, args, { countTotal: true, scope: undefined });
  // The same walk through the per-parent loader (every customer has the one legal entity).
  const nested: Fetch = async (args) => {
    const [row] = await t.sql<{ id: string }[]>`select id from legal_entity limit 1`;
    const loader = createConnectionLoader(
      t.db,
      byJurisdiction,
      customer.legalEntityId,
      undefined,
      undefined,
    );
    return loader.load({ parentId: row!.id, args, countTotal: true });
  };

  beforeAll(async () => {
    // A quarter NULL, the rest three values with many ties: ids decide inside each group.
    await t.sql`update customer set tax_jurisdiction = case
      when ('x' || substr(md5(id::text), 1, 8))::bit(32)::int % 4 = 0 then null
      else 'J' || abs(('x' || substr(md5(id::text), 9, 8))::bit(32)::int % 3) end`;
    const [counted] = await t.sql<{ nulls: number }[]>`
      select count(*)::int as nulls from customer where tax_jurisdiction is null`;
    expect(counted?.nulls).toBeGreaterThan(10);
  });

  for (const [label, fetch] of [
    ["paginate", top],
    ["createConnectionLoader", nested],
  ] as const) {
    it(`${label}: every page size 1..9, ASC and DESC, forwards and backwards, no row lost or repeated`, async () => {
      for (const direction of ["ASC", "DESC"] as const) {
        const expected = (
          direction === "ASC"
            ? await t.sql<
                { id: string }[]
              >`select id from customer order by tax_jurisdiction asc nulls last, id asc`
            : await t.sql<
                { id: string }[]
              >`select id from customer order by tax_jurisdiction desc nulls last, id desc`
        ).map((r) => r.id);
        const orderBy = { field: "JURISDICTION", direction };
        for (let size = 1; size <= 9; size++) {
          const forward: string[] = [];
          for (let after: string | null = null; ; ) {
            const page: Page = await fetch({ first: size, after, orderBy });
            forward.push(...page.nodes.map((n) => n.id));
            if (!page.pageInfo.hasNextPage) break;
            after = page.pageInfo.endCursor;
          }
          expect(forward, `${direction} first ${size}`).toEqual(expected);
          const backward: string[] = [];
          for (let before: string | null = null; ; ) {
            const page: Page = await fetch({ last: size, before, orderBy });
            backward.unshift(...page.nodes.map((n) => n.id));
            if (!page.pageInfo.hasPreviousPage) break;
            before = page.pageInfo.startCursor;
          }
          expect(backward, `${direction} last ${size}`).toEqual(expected);
        }
      }
    }, 60_000);
  }

  it("a NULL cursor on a NOT NULL sort column is BAD_USER_INPUT", async () => {
    const after = encodeCursor({ f: "NAME", d: "ASC", v: null, i: customerIds[0]! });
    const result = await run(PAGE, { first: 5, after });
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("nested connections and loaders", () => {
  const NESTED = `query($first: Int) { customers(first: $first) { edges { node { name
    contacts(first: 2) { totalCount edges { node { name customer { name } } } pageInfo { hasNextPage } } } } } }`;

  it("the number of SQL statements does not grow with the number of rows", async () => {
    statements.length = 0;
    const small = await run(NESTED, { first: 5 });
    const smallCount = statements.length;
    statements.length = 0;
    const large = await run(NESTED, { first: 100 });
    const largeCount = statements.length;
    expect(small.errors).toBeUndefined();
    expect(large.errors).toBeUndefined();
    expect(largeCount).toBe(smallCount);
    // page + count of customers, page + count of contacts, customers by id
    expect(largeCount).toBeLessThanOrEqual(5);
  });

  it("pages and counts each parent's children correctly", async () => {
    const result = await run(NESTED, { first: 500 });
    const edges = result.data!.customers.edges as {
      node: {
        name: string;
        contacts: { totalCount: number; edges: unknown[]; pageInfo: { hasNextPage: boolean } };
      };
    }[];
    const counts = await t.sql<{ name: string; n: number }[]>`
      select c.id, count(ct.id)::int as n from customer c left join contact ct on ct.customer_id = c.id
      group by c.id order by c.name, c.id`;
    expect(edges.map((e) => e.node.contacts.totalCount)).toEqual(counts.map((c) => c.n));
    for (const edge of edges) {
      const total = edge.node.contacts.totalCount;
      expect(edge.node.contacts.edges).toHaveLength(Math.min(2, total));
      expect(edge.node.contacts.pageInfo.hasNextPage).toBe(total > 2);
    }
  });

  it("batches aliases with different paging arguments, each answered with its own page", async () => {
    statements.length = 0;
    const result = await run(`{ customers(first: 50) { nodes {
      id one: contacts(first: 1) { edges { node { name } } }
      three: contacts(first: 3) { edges { node { name } } } } } }`);
    expect(result.errors).toBeUndefined();
    const nodes = result.data!.customers.nodes as {
      one: { edges: unknown[] };
      three: { edges: unknown[] };
    }[];
    const counts = await t.sql<{ n: number }[]>`
      select count(ct.id)::int as n from customer c left join contact ct on ct.customer_id = c.id
      group by c.id, c.name order by c.name, c.id limit 50`;
    nodes.forEach((node, i) => {
      expect(node.one.edges).toHaveLength(Math.min(1, counts[i]!.n));
      expect(node.three.edges).toHaveLength(Math.min(3, counts[i]!.n));
    });
    // customers page + one page statement per distinct argument set
    expect(statements).toHaveLength(3);
  });

  it("resolves _entities through the byId loader in one statement, null for unknown ids", async () => {
    statements.length = 0;
    const result = await run(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name } } }`,
      {
        r: [
          { __typename: "Customer", id: customerIds[0] },
          { __typename: "Customer", id: customerIds[1] },
          { __typename: "Customer", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "Customer", id: "not-a-uuid" },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    const entities = result.data!._entities as ({ id: string } | null)[];
    expect(entities.map((e) => e?.id ?? null)).toEqual([
      customerIds[0],
      customerIds[1],
      null,
      null,
    ]);
    expect(statements).toHaveLength(1);
  });
});

describe("list parameters", () => {
  it("a batch is one statement whose text does not depend on the batch size", async () => {
    const loaders = new RequestLoaders(t.db);
    statements.length = 0;
    await loaders.byId(customer).loadMany(customerIds.slice(0, 2));
    await loaders.byId(customer).loadMany(customerIds.slice(2, 9));
    expect(statements).toHaveLength(2);
    expect(statements[0]).toBe(statements[1]);
  });

  it("quotes list values: quotes, backslashes, commas and braces are matched literally", async () => {
    const odd = ['Quote "Ltd"', "Back\\slash", "Comma, Inc", "{Brace}", "NULL"];
    await t.db.insert(customer).values(odd.map((name) => ({ name, currency: "USD" })));
    const rows = await t.db
      .select({ name: customer.name })
      .from(customer)
      .where(anyOf(customer.name, odd));
    expect(rows.map((r) => r.name).sort()).toEqual([...odd].sort());
    expect(await t.db.select().from(customer).where(anyOf(customer.name, []))).toEqual([]);
    await t.db.delete(customer).where(anyOf(customer.name, odd));
  });
});

describe("statements built once", () => {
  it("loaders and pages run prepared statements whose text is built once per shape, across requests", async () => {
    const sent: { query: string; prepare: unknown }[] = [];
    const own = await createTestDatabase({
      onStatement: (query, _params, options) => {
        sent.push({ query, prepare: options?.prepare });
        return () => {};
      },
    });
    try {
      for (const ids of [customerIds.slice(0, 2), customerIds.slice(2, 7)]) {
        const loaders = new RequestLoaders(own.db);
        await loaders.byId(customer).loadMany(ids);
        await loaders.manyBy(contact, contact.customerId).loadMany(ids);
        await Promise.all(
          ids.map((id) => loaders.connection(contactList, contact.customerId, id, { first: 2 })),
        );
        await paginate(own.db, customerList, { first: 3 }, { scope: undefined });
      }
      // byId, manyBy, the connection's page and count, the page and its count: twice each.
      expect(sent).toHaveLength(12);
      expect(sent.every((statement) => statement.prepare === true)).toBe(true);
      expect(new Set(sent.map((statement) => statement.query)).size).toBe(6);
    } finally {
      await own.drop();
    }
  });

  it("a statement built for one legal-entity scope is never used for another", async () => {
    const id = customerIds[0]!;
    const found = async (scope: string[] | undefined) => {
      const loaders = new RequestLoaders(t.db, () => {}, scope);
      const byId = await loaders.byId(customer).load(id);
      const contacts = await loaders.manyBy(contact, contact.customerId).load(customerIds[1]!);
      const page = await loaders.connection(contactList, contact.customerId, customerIds[1]!, {
        first: 5,
      });
      const list = await paginate(t.db, customerList, { first: 5 }, { scope });
      return [byId !== null, contacts.length > 0, page.totalCount > 0, list.totalCount > 0];
    };
    // Unscoped first, so that a statement keyed without the scope would be found again below.
    expect(await found(undefined)).toEqual([true, true, true, true]);
    expect(await found(["XX9"])).toEqual([false, false, false, false]);
    expect(await found(["US1"])).toEqual([true, true, true, true]);
    expect(await found([])).toEqual([false, false, false, false]);
  });
});

describe("errors, scalars and context", () => {
  it("maps a DomainError to its code and details", async () => {
    const result = await run(`{ fail(kind: "domain") }`);
    expect(result.errors?.[0]?.extensions).toMatchObject({
      code: "INVALID_TRANSITION",
      from: "A",
    });
    expect(result.errors?.[0]?.message).toBe("cannot go from A to B");
  });

  it("hides unexpected errors behind INTERNAL_SERVER_ERROR", async () => {
    const result = await run(`{ fail(kind: "boom") }`);
    expect(result.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(result.errors?.[0]?.message).not.toMatch(/secret/);
  });

  it("Decimal: strings out, strings or integers in, fractional JSON numbers refused", async () => {
    expect(DecimalScalar.serialize("1234.50")).toBe("1234.50");
    expect(() => DecimalScalar.serialize(0.1)).toThrow();
    expect((await run(`{ amount(value: "12.34") }`)).data?.amount).toBe("12.34");
    expect((await run(`{ amount(value: 12) }`)).data?.amount).toBe("12");
    const float = await run(`query($v: Decimal!) { amount(value: $v) }`, { v: 0.1 });
    expect(float.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const precise = await run(`{ amount(value: "1.234") }`);
    expect(precise.errors?.[0]?.extensions?.code).toBeDefined();
  });

  it("takes the principal from x-pshub-principal", async () => {
    expect((await run(`{ whoami }`)).data?.whoami).toBe("tester");
  });
});

describe("HTTP adapter", () => {
  it("serves /healthz, queries, and answers bad requests with 4xx, never 500", async () => {
    const health = await fetch(running.url.replace("/graphql", "/healthz"));
    expect(health.status).toBe(200);

    const ok = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-pshub-principal": "alice" },
      body: JSON.stringify({ query: "{ whoami }" }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { whoami: "alice" } });

    const get = await fetch(`${running.url}?query=${encodeURIComponent("{ whoami }")}`, {
      headers: { "apollo-require-preflight": "1" },
    });
    expect(((await get.json()) as { data: unknown }).data).toEqual({ whoami: "anonymous" });

    const badJson = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{ not json",
    });
    expect(badJson.status).toBe(400);
    expect(JSON.stringify(await badJson.json())).toMatch(/BAD_REQUEST/);

    // The same adapter as the gateway's (./http.ts): empty and oversized bodies are coded 4xx.
    const empty = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "",
    });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { errors: { extensions: unknown }[] }).errors[0]).toMatchObject(
      {
        extensions: { code: "BAD_REQUEST" },
      },
    );
    const tooBig = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `{ whoami } #${"x".repeat(1024 * 1024)}` }),
    });
    expect(tooBig.status).toBe(413);
    expect(
      ((await tooBig.json()) as { errors: { extensions: unknown }[] }).errors[0],
    ).toMatchObject({
      extensions: { code: "PAYLOAD_TOO_LARGE" },
    });

    const unknownField = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ nope }" }),
    });
    expect(unknownField.status).toBe(400);
    expect(JSON.stringify(await unknownField.json())).toMatch(/GRAPHQL_VALIDATION_FAILED/);

    const wrongType = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "query($n: Int) { customers(first: $n) { totalCount } }",
        variables: { n: "ten" },
      }),
    });
    expect(wrongType.status).toBe(400);
    expect(JSON.stringify(await wrongType.json())).toMatch(/BAD_USER_INPUT/);

    const notFound = await fetch(running.url.replace("/graphql", "/nope"));
    expect(notFound.status).toBe(404);
  });
});

it("the connection loader tolerates parents with no children", async () => {
  const [c] = await t.db
    .insert(customer)
    .values({ name: "Lonely", currency: "USD" })
    .returning({ id: customer.id });
  const result = await run(
    `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { contacts(first: 3) { totalCount edges { cursor } } } } }`,
    { r: [{ __typename: "Customer", id: c!.id }] },
  );
  expect(result.data!._entities[0].contacts).toEqual({ totalCount: 0, edges: [] });
  await t.db.delete(customer).where(eq(customer.id, c!.id));
});

it("pages and filters tables keyed by a bigserial (cast as bigint, not the serial pseudo-type)", async () => {
  expect(castType(auditLog.id)).toBe("bigint");
  expect(castType(customer.id)).toBe("uuid");
  const rows = await t.db
    .insert(auditLog)
    .values([1, 2, 3].map((n) => ({ actor: "kit-test", operation: `op${n}`, outcome: "OK" })))
    .returning({ id: auditLog.id });
  const ids = rows.map((r) => r.id);
  const spec: ListSpec<typeof auditLog> = {
    name: "AuditLogEntry",
    table: auditLog,
    id: auditLog.id,
    orderFields: { ID: auditLog.id },
    defaultOrder: { field: "ID", direction: "ASC" },
  };
  const where = inList(auditLog.id, ids);
  const first = await paginate(t.db, spec, { first: 2 }, { where, scope: undefined });
  expect(first.nodes.map((r) => r.id)).toEqual(ids.slice(0, 2));
  expect(first.totalCount).toBe(3);
  const rest = await paginate(
    t.db,
    spec,
    { first: 2, after: first.pageInfo.endCursor },
    { where, scope: undefined },
  );
  expect(rest.nodes.map((r) => r.id)).toEqual(ids.slice(2));
  expect(rest.pageInfo.hasNextPage).toBe(false);
  // Not deleted afterwards: audit_log is append-only (migration 0013); this file's database is its own.
});
