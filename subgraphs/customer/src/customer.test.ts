import { contact, customer, taxRate } from "@pshub/db/schema";
import {
  buildContact,
  buildContract,
  buildCustomer,
  buildLegalEntity,
  buildOpportunity,
  createTestDatabase,
  type TestDatabase,
} from "@pshub/db/testing";
import type { OperationResult } from "@pshub/subgraph-kit";
import { listen, type RunningSubgraph, undocumented } from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCustomerSubgraph } from "./index.ts";

let t: TestDatabase;
let server: ReturnType<typeof createCustomerSubgraph>;
const statements: string[] = [];
const ids = {} as {
  le: string;
  le2: string;
  parent: string;
  child: string;
  grandchild: string;
  contact: string;
  opportunity: string;
  contract: string;
};

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables);

const BULK = 120;

beforeAll(async () => {
  t = await createTestDatabase({ onQuery: (q) => statements.push(q) });
  const le = await buildLegalEntity(t.db);
  const le2 = await buildLegalEntity(t.db, { currency: "USD", country: "US", code: "US1" });
  const parent = await buildCustomer(t.db, { name: "Acme Group", legalEntityId: le.id });
  const child = await buildCustomer(t.db, {
    name: "Acme UK",
    parentId: parent.id,
    legalEntityId: le.id,
  });
  const grandchild = await buildCustomer(t.db, { name: "Acme UK Labs", parentId: child.id });
  const c = await buildContact(t.db, { customerId: child.id, isBillingContact: true });
  const opp = await buildOpportunity(t.db, {
    customerId: child.id,
    stage: "CLOSED_WON",
    isWon: true,
    amount: "98765.43",
  });
  const k = await buildContract(t.db, {
    customerId: child.id,
    legalEntityId: le.id,
    opportunityId: opp.id,
    totalValue: "98765.43",
  });
  Object.assign(ids, {
    le: le.id,
    le2: le2.id,
    parent: parent.id,
    child: child.id,
    grandchild: grandchild.id,
    contact: c.id,
    opportunity: opp.id,
    contract: k.id,
  });
  // Bulk: BULK customers under le2 in USD, each with 2 contacts, 1 opportunity and 1 contract.
  const bulk = await t.db
    .insert(customer)
    .values(
      Array.from({ length: BULK }, (_, i) => ({
        name: `Bulk ${String(i % 40).padStart(2, "0")}`, // ties on name
        currency: "USD",
        legalEntityId: le2.id,
        parentId: i % 2 === 0 ? parent.id : null,
        status: i % 4 === 0 ? ("ON_HOLD" as const) : ("ACTIVE" as const),
      })),
    )
    .returning({ id: customer.id });
  await t.db
    .insert(contact)
    .values(bulk.flatMap((b, i) => [0, 1].map((n) => ({ customerId: b.id, name: `P${i}-${n}` }))));
  for (const [i, b] of bulk.entries()) {
    if (i % 10 !== 0) continue;
    const o = await buildOpportunity(t.db, { customerId: b.id, currency: "USD" });
    await buildContract(t.db, {
      customerId: b.id,
      legalEntityId: le2.id,
      opportunityId: o.id,
      currency: "USD",
    });
  }
  server = createCustomerSubgraph(t.db);
});

afterAll(async () => {
  await t?.drop();
});

describe("schema", () => {
  it("documents every type, field, input field and enum value", () => {
    expect(undocumented(server.schema)).toEqual([]);
  });
});

describe("entity contract (_entities)", () => {
  it("resolves every owned type by key", async () => {
    const result = await run(
      `query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Customer { id name parent { name } legalEntity { code } }
        ... on Contact { id isBillingContact customer { name } }
        ... on Opportunity { id stage amount { amount currency } contract { id } }
        ... on Contract { id totalValue { amount currency } billingModel opportunity { id } customer { name } }
        ... on LegalEntity { id currency }
      } }`,
      {
        r: [
          { __typename: "Customer", id: ids.child },
          { __typename: "Contact", id: ids.contact },
          { __typename: "Opportunity", id: ids.opportunity },
          { __typename: "Contract", id: ids.contract },
          { __typename: "LegalEntity", id: ids.le2 },
          { __typename: "Customer", id: "00000000-0000-4000-8000-000000000000" },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    const [cust, cont, opp, contract, le, missing] = result.data!._entities;
    expect(cust).toMatchObject({ id: ids.child, name: "Acme UK", parent: { name: "Acme Group" } });
    expect(cont).toMatchObject({ isBillingContact: true, customer: { name: "Acme UK" } });
    expect(opp).toMatchObject({
      stage: "CLOSED_WON",
      amount: { amount: "98765.43", currency: "GBP" },
      contract: { id: ids.contract },
    });
    expect(contract).toMatchObject({
      totalValue: { amount: "98765.43", currency: "GBP" },
      billingModel: "TIME_AND_MATERIALS",
      opportunity: { id: ids.opportunity },
    });
    expect(le).toEqual({ id: ids.le2, currency: "USD" });
    expect(missing).toBeNull();
  });
});

describe("hierarchy", () => {
  it("walks parent, children and ancestors", async () => {
    const result = await run(
      `query($id: ID!) { customer(id: $id) { name ancestors { name } parent { name children(first: 500, filter: { nameContains: "acme" }) { totalCount nodes { name } } } } }`,
      { id: ids.grandchild },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.customer.ancestors.map((a: { name: string }) => a.name)).toEqual([
      "Acme UK",
      "Acme Group",
    ]);
    expect(result.data!.customer.parent.children).toEqual({
      totalCount: 1,
      nodes: [{ name: "Acme UK Labs" }],
    });
  });
});

describe("lists", () => {
  it("pages through every customer, forward and backward, each exactly once", async () => {
    const total = BULK + 3;
    const forward: string[] = [];
    let after: string | null = null;
    do {
      const r: OperationResult = await run(
        `query($after: String) { customers(first: 17, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.customers.totalCount).toBe(total);
      forward.push(...r.data!.customers.edges.map((e: { node: { id: string } }) => e.node.id));
      after = r.data!.customers.pageInfo.hasNextPage ? r.data!.customers.pageInfo.endCursor : null;
    } while (after);
    const expected = (await t.sql<{ id: string }[]>`select id from customer order by name, id`).map(
      (r) => r.id,
    );
    expect(forward).toEqual(expected);

    const backward: string[] = [];
    let before: string | null = null;
    do {
      const r: OperationResult = await run(
        `query($before: String) { customers(last: 23, before: $before) { nodes { id } pageInfo { hasPreviousPage startCursor } } }`,
        { before },
      );
      backward.unshift(...r.data!.customers.nodes.map((n: { id: string }) => n.id));
      before = r.data!.customers.pageInfo.hasPreviousPage
        ? r.data!.customers.pageInfo.startCursor
        : null;
    } while (before);
    expect(backward).toEqual(expected);
  });

  it("filters by status, currency, legal entity, stage, dates and billing model", async () => {
    const r = await run(
      `query($le: ID!) {
        onHold: customers(filter: { status: [ON_HOLD], currency: ["USD"], legalEntityId: $le }) { totalCount }
        top: customers(filter: { topLevel: true }) { totalCount }
        won: opportunities(filter: { stage: [CLOSED_WON], closeDateFrom: "2026-01-01", closeDateTo: "2026-12-31" }) { totalCount }
        usd: contracts(filter: { currency: ["USD"], billingModel: [TIME_AND_MATERIALS], status: [ACTIVE] }, orderBy: { field: TOTAL_VALUE, direction: DESC }) { totalCount }
        gbp: legalEntities(filter: { currency: ["GBP"] }) { totalCount nodes { currency } }
        billing: contacts(filter: { isBillingContact: true }) { totalCount }
        none: customers(filter: { status: [] }) { totalCount }
      }`,
      { le: ids.le2 },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({
      onHold: { totalCount: BULK / 4 },
      top: { totalCount: 1 + BULK / 2 },
      won: { totalCount: 1 },
      usd: { totalCount: BULK / 10 },
      gbp: { totalCount: 1, nodes: [{ currency: "GBP" }] },
      billing: { totalCount: 1 },
      none: { totalCount: 0 },
    });
  });
});

describe("N+1", () => {
  const NESTED = `query($n: Int) { customers(first: $n, filter: { currency: ["USD"] }) { edges { node {
    name parent { name } legalEntity { code }
    contacts(first: 5) { totalCount nodes { name customer { name } } }
    contracts { nodes { number customer { name } legalEntity { code } opportunity { name contract { number } } } }
  } } } }`;

  it("statements stay bounded by the query's depth while rows go from 5 to 100", async () => {
    // Loader paths in NESTED: customers page, parent+customer refs (2 depths), legal entities
    // (2 depths), contacts page + count, contracts page, opportunities, contract by opportunity.
    // Batches that resolve in different ticks may split once, so the bound has that slack.
    const BOUND = 11;
    const counts: number[] = [];
    for (const n of [5, 50, 100]) {
      statements.length = 0;
      const result = await run(NESTED, { n });
      expect(result.errors).toBeUndefined();
      expect(result.data!.customers.edges).toHaveLength(n);
      counts.push(statements.length);
    }
    for (const count of counts) expect(count).toBeLessThanOrEqual(BOUND);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
  });
});

describe("bad input", () => {
  it("answers with a code, never an internal error", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [`query($id: ID!) { customer(id: $id) { id } }`, { id: "not-a-uuid" }, "BAD_USER_INPUT"],
      [
        `query($id: ID!) { contract(id: $id) { id } }`,
        { id: "00000000-0000-4000-8000-000000000000" },
        "NOT_FOUND",
      ],
      [`{ customers(first: 5, after: "garbage") { totalCount } }`, {}, "BAD_USER_INPUT"],
      [`{ customers(first: -5) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [`{ customers(filter: { legalEntityId: "x" }) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [
        `{ opportunities(filter: { closeDateFrom: "2026-13-45" }) { totalCount } }`,
        {},
        "BAD_USER_INPUT", // the Date scalar's own code, literal or variable
      ],
      [
        `query($d: Date) { opportunities(filter: { closeDateFrom: $d }) { totalCount } }`,
        { d: "2026-02-30" },
        "BAD_USER_INPUT",
      ],
      [`{ customers(first: "ten") { totalCount } }`, {}, "GRAPHQL_VALIDATION_FAILED"],
      [`{ customers { nope } }`, {}, "GRAPHQL_VALIDATION_FAILED"],
    ];
    for (const [query, variables, code] of cases) {
      const r = await run(query, variables);
      expect(r.errors?.[0]?.extensions?.code, query).toBe(code);
    }
  });

  it("caps first: 100000 at 500 and says so", async () => {
    const r = await run(`{ contacts(first: 100000) { totalCount nodes { id } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data!.contacts.nodes).toHaveLength(Math.min(500, r.data!.contacts.totalCount));
    expect(JSON.stringify(r.extensions?.warnings)).toMatch(/capped at 500/);
  });
});

describe("tax rates", () => {
  it("lists rates by jurisdiction and date, exact to four decimals, and resolves them by key", async () => {
    const rows = await t.db
      .insert(taxRate)
      .values([
        { jurisdiction: "GB", rate: "0.1750", validFrom: "2008-01-01" },
        { jurisdiction: "GB", rate: "0.2000", validFrom: "2011-01-04" },
        { jurisdiction: "US-NY", rate: "0.0888", validFrom: "2020-01-01" },
      ])
      .returning({ id: taxRate.id });
    const r = await run(
      `query($r: [_Any!]!) {
        gb: taxRates(filter: { jurisdiction: ["GB"], validFromFrom: "2010-01-01" }, orderBy: { field: VALID_FROM, direction: DESC }) { totalCount nodes { rate validFrom } }
        _entities(representations: $r) { ... on TaxRate { jurisdiction rate } }
      }`,
      { r: [{ __typename: "TaxRate", id: rows[2]!.id }] },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({
      gb: { totalCount: 1, nodes: [{ rate: "0.2000", validFrom: "2011-01-04" }] },
      _entities: [{ jurisdiction: "US-NY", rate: "0.0888" }],
    });
  });
});

describe("process", () => {
  let running: RunningSubgraph;
  beforeAll(async () => {
    running = await listen(createCustomerSubgraph(t.db), { port: 0 });
  });
  afterAll(async () => {
    await running.close();
  });

  it("serves /healthz and /graphql over HTTP", async () => {
    expect((await fetch(running.url.replace("/graphql", "/healthz"))).status).toBe(200);
    const res = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: `query($id: ID!) { customer(id: $id) { name } }`,
        variables: { id: ids.parent },
      }),
    });
    expect(await res.json()).toEqual({ data: { customer: { name: "Acme Group" } } });
  });
});
