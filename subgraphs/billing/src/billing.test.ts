import { billingEvent } from "@pshub/db/schema";
import { builders, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { OperationResult } from "@pshub/subgraph-kit";
import {
  listen,
  type RunningSubgraph,
  type SubgraphServer,
  undocumented,
} from "@pshub/subgraph-kit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBillingSubgraph } from "./index.ts";
import type { BillingLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<BillingLoaders>;
let running: RunningSubgraph;
const statements: string[] = [];

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables);

/** Fixture: one T&M contract with every kind of unbilled and billed item. */
let tm: Awaited<ReturnType<ReturnType<typeof builders>["contractWithProject"]>>;
let tmTimeBilled: string;
let fixed: Awaited<ReturnType<ReturnType<typeof builders>["contractWithProject"]>>;
let milestoneId: string;
const pageEventIds: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ onQuery: (q) => statements.push(q) });
  const b = builders(t.db);
  const res = await b.resource();

  tm = await b.contractWithProject({ billingModel: "TIME_AND_MATERIALS" });
  const p = { projectId: tm.project.id, resourceId: res.id };
  await b.timeEntry({ ...p, hours: "8.00", billRate: "150.00" }); // 1200.00
  await b.timeEntry({ ...p, hours: "1.25", billRate: "133.33" }); // 166.6625 → 166.66 (half-even)
  await b.timeEntry({ ...p, hours: "0.50", billRate: "0.05" }); // 0.025 → 0.02 (half-even)
  await b.timeEntry({ ...p, hours: "4.00", billable: false }); // not billable
  await b.timeEntry({ ...p, hours: "3.00", status: "SUBMITTED" }); // not approved
  await b.timeEntry({ ...p, hours: "2.00", status: "BILLED" }); // billed
  const billed = await b.timeEntry({ ...p, hours: "5.00" }); // has a READY event: counted there
  tmTimeBilled = billed.id;
  await b.expense({ ...p, amount: "100.10" });
  await b.expense({ ...p, amount: "50.00", billable: false });
  const common = {
    contractId: tm.contract.id,
    customerId: tm.customer.id,
    projectId: tm.project.id,
  };
  await b.billingEvent({
    ...common,
    sourceType: "TIME",
    sourceId: billed.id,
    quantity: "5.00",
    rate: "150.00",
    amount: "750.00",
  });
  await b.billingEvent({ ...common, amount: "999.00", status: "INVOICED" });
  await b.billingEvent({ ...common, amount: "888.00", status: "VOID" });

  // A second currency under the same customer, and a FIXED_FEE contract whose time is not T&M.
  const usd = await b.contract({
    customerId: tm.customer.id,
    legalEntityId: tm.legalEntity.id,
    currency: "USD",
  });
  const usdProject = await b.project({
    contractId: usd.id,
    customerId: tm.customer.id,
    currency: "USD",
  });
  await b.expense({
    projectId: usdProject.id,
    resourceId: res.id,
    amount: "42.00",
    currency: "USD",
  });

  fixed = await b.contractWithProject({ billingModel: "FIXED_FEE", totalValue: "5000.00" });
  await b.timeEntry({ projectId: fixed.project.id, resourceId: res.id, hours: "8.00" });
  const fee = await b.feeScheduleItem({
    contractId: fixed.contract.id,
    amount: "2500.00",
    dueDate: "2020-01-31",
  });
  await b.feeScheduleItem({
    contractId: fixed.contract.id,
    amount: "1250.00",
    dueDate: "2020-06-30",
  });
  await b.feeScheduleItem({
    contractId: fixed.contract.id,
    amount: "2500.00",
    dueDate: "2999-12-31",
  });
  // Expenses are not billed on fixed-fee contracts.
  await b.expense({ projectId: fixed.project.id, resourceId: res.id, amount: "75.00" });
  await b.billingEvent({
    contractId: fixed.contract.id,
    customerId: fixed.customer.id,
    sourceType: "FIXED_FEE",
    sourceId: fee.id,
    period: "", // as runBilling bills a fee: period-less
    amount: "2500.00",
  });

  const ms = await b.contractWithProject({ billingModel: "MILESTONE" });
  milestoneId = (
    await b.milestone({ projectId: ms.project.id, status: "APPROVED", amount: "7000.00" })
  ).id;
  await b.milestone({ projectId: ms.project.id, status: "OPEN" });

  // 37 more events on one contract for paging, amounts with ties.
  const pager = await b.contractWithProject();
  for (let i = 0; i < 37; i++) {
    const row = await b.billingEvent({
      contractId: pager.contract.id,
      customerId: pager.customer.id,
      projectId: pager.project.id,
      amount: `${(i % 5) * 10}.00`,
      period: `2026-${String((i % 9) + 1).padStart(2, "0")}`,
    });
    pageEventIds.push(row.id);
  }

  server = createBillingSubgraph(t.db);
  running = await listen(server, { port: 0 });
});

afterAll(async () => {
  await running?.close();
  await t?.drop();
});

describe("unbilled totals", () => {
  const UNBILLED = `fragment U on UnbilledTotal {
    currency timeHours timeAmount { amount currency } expenseAmount { amount }
    milestoneAmount { amount } fixedFeeAmount { amount } readyAmount { amount } readyCount
    total { amount currency }
  }`;

  it("values approved billable unbilled time, expenses and READY events per project, in SQL numeric", async () => {
    const result = await run(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Project { unbilled { ...U } } } } ${UNBILLED}`,
      { reps: [{ __typename: "Project", id: tm.project.id }] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities[0].unbilled).toEqual([
      {
        currency: "EUR",
        timeHours: "9.75",
        timeAmount: { amount: "1366.68", currency: "EUR" },
        expenseAmount: { amount: "100.10" },
        milestoneAmount: { amount: "0.00" },
        fixedFeeAmount: { amount: "0.00" },
        readyAmount: { amount: "750.00" },
        readyCount: 1,
        total: { amount: "2216.78", currency: "EUR" },
      },
    ]);
  });

  it("groups a customer's totals per currency; fixed fees count when due, fixed-fee time and expenses never", async () => {
    const result = await run(
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on Customer { unbilled { currency total { amount } } }
        ... on Contract { unbilled { currency timeAmount { amount } expenseAmount { amount } fixedFeeAmount { amount } readyAmount { amount } total { amount } } }
      } }`,
      {
        reps: [
          { __typename: "Customer", id: tm.customer.id },
          { __typename: "Contract", id: fixed.contract.id },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    const [cust, con] = result.data?._entities ?? [];
    expect(cust.unbilled).toEqual([
      { currency: "EUR", total: { amount: "2216.78" } },
      { currency: "USD", total: { amount: "42.00" } },
    ]);
    expect(con.unbilled).toEqual([
      {
        currency: "EUR",
        timeAmount: { amount: "0.00" },
        expenseAmount: { amount: "0.00" },
        fixedFeeAmount: { amount: "1250.00" },
        readyAmount: { amount: "2500.00" },
        total: { amount: "3750.00" },
      },
    ]);
  });
});

describe("schema", () => {
  it("describes every type, field and enum value (the IDE is the analysts' documentation)", () => {
    expect(undocumented(server.schema)).toEqual([]);
  });
});

describe("entities (_entities contract test)", () => {
  it("resolves owned entities by key, and stubs of others with billing's fields", async () => {
    const [event] = await t.db.select().from(billingEvent).limit(1);
    const result = await run(
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
        __typename
        ... on BillingEvent { id status amount { amount currency } contract { id } customer { id } }
        ... on TimeEntry { id billingEvent { id amount { amount } } }
        ... on Milestone { id billingEvent { id } }
        ... on Contract { id billingRule { billingModel rateSource summary totalValue { amount }
             feeSchedule { amount { amount } status billingEvent { amount { amount } } } milestones { id } } }
      } }`,
      {
        reps: [
          { __typename: "BillingEvent", id: event!.id },
          { __typename: "TimeEntry", id: tmTimeBilled },
          { __typename: "Milestone", id: milestoneId },
          { __typename: "Contract", id: fixed.contract.id },
          { __typename: "BillingEvent", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "BillingEvent", id: "not-a-uuid" },
          { __typename: "Customer", id: "not-a-uuid" },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    const [e, te, m, c, missing, malformed, badStub] = result.data?._entities ?? [];
    expect(e).toMatchObject({
      __typename: "BillingEvent",
      id: event!.id,
      amount: { amount: event!.amount, currency: "EUR" },
      contract: { id: event!.contractId },
    });
    expect(te.billingEvent.amount.amount).toBe("750.00");
    expect(m).toEqual({ __typename: "Milestone", id: milestoneId, billingEvent: null });
    expect(c.billingRule).toMatchObject({
      billingModel: "FIXED_FEE",
      rateSource: "FEE_SCHEDULE",
      totalValue: { amount: "5000.00" },
      milestones: [],
    });
    expect(c.billingRule.summary).toMatch(/fee schedule/);
    expect(c.billingRule.feeSchedule).toHaveLength(3);
    expect(c.billingRule.feeSchedule[0].billingEvent).toEqual({ amount: { amount: "2500.00" } });
    expect(c.billingRule.feeSchedule[1].billingEvent).toBeNull();
    expect(c.billingRule.feeSchedule.map((f: { status: string }) => f.status)).toEqual([
      "SCHEDULED",
      "SCHEDULED",
      "SCHEDULED",
    ]);
    expect(missing).toBeNull();
    expect(malformed).toBeNull();
    expect(badStub).toBeNull();
  });

  it("provides a billing event's project name itself (@provides), and only the key when not asked", async () => {
    const [event] = await t.db
      .select()
      .from(billingEvent)
      .where(eq(billingEvent.projectId, tm.project.id))
      .limit(1);
    const ask = (selection: string) =>
      run(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on BillingEvent { project { ${selection} } } } }`,
        { reps: [{ __typename: "BillingEvent", id: event!.id }] },
      );
    statements.length = 0;
    const named = await ask("id name");
    const readsProject = () => statements.some((statement) => /from "project"/.test(statement));
    expect(readsProject()).toBe(true);
    expect(named.errors).toBeUndefined();
    expect(named.data?._entities[0].project).toEqual({ id: tm.project.id, name: tm.project.name });
    statements.length = 0;
    const keyOnly = await ask("id");
    expect(keyOnly.data?._entities[0].project).toEqual({ id: tm.project.id });
    // The key alone reads no project row.
    expect(readsProject()).toBe(false);
  });
});

describe("connections", () => {
  const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $filter: BillingEventFilter, $orderBy: BillingEventOrder) {
    billingEvents(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount edges { cursor node { id amount { amount } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } }`;

  it("pages forward and backward through every billing event, in (amount, id) order", async () => {
    const orderBy = { field: "AMOUNT", direction: "DESC" };
    const forward: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await run(PAGE, { first: 7, after, orderBy });
      expect(result.errors).toBeUndefined();
      forward.push(
        ...result.data!.billingEvents.edges.map((e: { node: { id: string } }) => e.node.id),
      );
      if (!result.data?.billingEvents.pageInfo.hasNextPage) break;
      after = result.data.billingEvents.pageInfo.endCursor;
    }
    const expected = await t.sql<
      { id: string }[]
    >`select id from billing_event order by amount desc, id desc`;
    expect(forward).toEqual(expected.map((r) => r.id));

    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const result = await run(PAGE, { last: 9, before, orderBy });
      backward.unshift(
        ...result.data!.billingEvents.edges.map((e: { node: { id: string } }) => e.node.id),
      );
      if (!result.data?.billingEvents.pageInfo.hasPreviousPage) break;
      before = result.data.billingEvents.pageInfo.startCursor;
    }
    expect(backward).toEqual(forward);
  });

  it("filters by status, contract and legal entity, counting only matches", async () => {
    const ready = await run(PAGE, { first: 500, filter: { status: ["READY"] } });
    const [row] = await t.sql`select count(*)::int as n from billing_event where status = 'READY'`;
    expect(ready.data?.billingEvents.totalCount).toBe(row!.n);
    const byEntity = await run(PAGE, { first: 2, filter: { legalEntityId: tm.legalEntity.id } });
    expect(byEntity.data?.billingEvents.totalCount).toBe(3);
    expect(byEntity.data?.billingEvents.edges).toHaveLength(2);
  });

  it("pages a project's billing events through Project.billingEvents", async () => {
    const pagerProject = (
      await t.sql`select project_id from billing_event where id = ${pageEventIds[0]!}`
    )[0]!.project_id as string;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await run(
        `query($reps: [_Any!]!, $after: String) { _entities(representations: $reps) { ... on Project {
          billingEvents(first: 10, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } } } }`,
        { reps: [{ __typename: "Project", id: pagerProject }], after },
      );
      expect(result.errors).toBeUndefined();
      const conn = result.data?._entities[0].billingEvents;
      expect(conn.totalCount).toBe(37);
      seen.push(...conn.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(pageEventIds);
  });

  it("pages every fee schedule item, filtered by contract, status and due date", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await run(
        `query($after: String) { feeScheduleItems(first: 2, after: $after) { totalCount nodes { id dueDate contract { id } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      expect(result.errors).toBeUndefined();
      const conn = result.data!.feeScheduleItems;
      expect(conn.totalCount).toBe(3);
      seen.push(...conn.nodes.map((n: { id: string }) => n.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    const expected = await t.sql<
      { id: string }[]
    >`select id from fee_schedule_item order by due_date, id`;
    expect(seen).toEqual(expected.map((r) => r.id));
    const due = await run(
      `query($c: ID!) { feeScheduleItems(filter: { contractId: $c, status: [SCHEDULED], dueTo: "2025-01-01" }) { totalCount } }`,
      { c: fixed.contract.id },
    );
    expect(due.data?.feeScheduleItems.totalCount).toBe(2);
  });

  it("lists billing rules, one per contract, filtered by billing model", async () => {
    const result = await run(
      `{ billingRules(filter: { billingModel: [MILESTONE] }) { totalCount nodes { billingModel milestones { id } } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.billingRules.totalCount).toBe(1);
    expect(result.data?.billingRules.nodes[0].milestones).toHaveLength(2);
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

  it("caps first: 100000 at 500 and says so", async () => {
    const result = await run(`{ billingEvents(first: 100000) { totalCount edges { cursor } } }`);
    expect(result.errors).toBeUndefined();
    expect(String(result.extensions?.warnings)).toMatch(/capped at 500/);
  });

  it("answers malformed cursors, bad ids, unknown ids and bad filters with coded errors", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        `query($a: String) { billingEvents(first: 2, after: $a) { totalCount } }`,
        { a: "garbage!" },
        "BAD_USER_INPUT",
      ],
      [`{ billingEvent(id: "nope") { id } }`, {}, "BAD_USER_INPUT"],
      [`{ billingEvent(id: "00000000-0000-4000-8000-000000000000") { id } }`, {}, "NOT_FOUND"],
      [
        `{ billingRule(contractId: "00000000-0000-4000-8000-000000000000") { summary } }`,
        {},
        "NOT_FOUND",
      ],
      [`{ billingEvents(filter: { customerId: "x" }) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [`{ billingEvents(filter: { currency: "euro" }) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [`{ billingEvents(first: -3) { totalCount } }`, {}, "BAD_USER_INPUT"],
    ];
    for (const [query, variables, code] of cases) {
      const { status, body } = await post({ query, variables });
      expect(status, query).toBeLessThan(500);
      expect(body.errors?.[0]?.extensions?.code, query).toBe(code);
    }
  });

  it("rejects unknown fields and wrong argument types before running anything", async () => {
    const unknown = await post({ query: `{ billingEvents { nodes { nope } } }` });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const wrongType = await post({ query: `{ billingEvents(first: "ten") { totalCount } }` });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const syntax = await post({ query: `{ billingEvents(` });
    expect(syntax.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
  });
});

describe("statement count", () => {
  it("does not grow with the number of billing events listed", async () => {
    const query = `query($n: Int) { billingEvents(first: $n) { nodes { id
      project { id unbilled { total { amount } } billingEvents(first: 3) { totalCount nodes { id } } }
      contract { id billingRule { billingModel feeSchedule { id } milestones { id } } unbilled { currency } }
      customer { id unbilled { currency } }
      timeEntry { id billingEvent { id } }
    } } }`;
    const count = async (n: number) => {
      statements.length = 0;
      const result = await run(query, { n });
      expect(result.errors).toBeUndefined();
      expect(result.data?.billingEvents.nodes).toHaveLength(n);
      return statements.length;
    };
    const few = await count(3);
    const many = await count(40);
    expect(many).toBe(few);
    expect(many).toBeLessThanOrEqual(12);
  });
});
