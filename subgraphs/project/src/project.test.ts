import { timeEntry } from "@pshub/db/schema";
import {
  buildAssignment,
  buildContract,
  buildCustomer,
  buildExpense,
  buildLegalEntity,
  buildMilestone,
  buildProject,
  buildResource,
  buildTimeEntry,
  createTestDatabase,
  type TestDatabase,
} from "@pshub/db/testing";
import type { OperationResult } from "@pshub/subgraph-kit";
import { listen, type RunningSubgraph, undocumented } from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProjectSubgraph } from "./index.ts";

let t: TestDatabase;
let server: ReturnType<typeof createProjectSubgraph>;
const statements: string[] = [];
const ids = {} as Record<
  | "le"
  | "customer"
  | "contract"
  | "project"
  | "resource"
  | "assignment"
  | "milestone"
  | "timeEntry"
  | "expense",
  string
>;

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables);

const BULK_PROJECTS = 30;
const ENTRIES_PER_PROJECT = 9;

beforeAll(async () => {
  t = await createTestDatabase({ onQuery: (q) => statements.push(q) });
  const le = await buildLegalEntity(t.db);
  const cust = await buildCustomer(t.db, { legalEntityId: le.id });
  const k = await buildContract(t.db, { customerId: cust.id, legalEntityId: le.id });
  const p = await buildProject(t.db, {
    contractId: k.id,
    customerId: cust.id,
    budgetHours: "100.00",
    code: "P-MAIN",
  });
  const r = await buildResource(t.db, { legalEntityId: le.id, billRate: "150.00" });
  const a = await buildAssignment(t.db, {
    projectId: p.id,
    resourceId: r.id,
    billRateOverride: "175.50",
    startDate: "2026-01-01",
    endDate: "2026-06-30",
  });
  const m = await buildMilestone(t.db, { projectId: p.id, amount: "25000.00" });
  const te = await buildTimeEntry(t.db, {
    projectId: p.id,
    resourceId: r.id,
    hours: "7.50",
    billRate: "150.00",
    status: "APPROVED",
  });
  await buildTimeEntry(t.db, {
    projectId: p.id,
    resourceId: r.id,
    hours: "2.25",
    status: "BILLED",
  });
  await buildTimeEntry(t.db, { projectId: p.id, resourceId: r.id, hours: "1.00" });
  await buildTimeEntry(t.db, {
    projectId: p.id,
    resourceId: r.id,
    hours: "3.00",
    status: "REJECTED",
  });
  await buildTimeEntry(t.db, {
    projectId: p.id,
    resourceId: r.id,
    hours: "0.10",
    billable: false,
    status: "APPROVED",
  });
  const ex = await buildExpense(t.db, { projectId: p.id, resourceId: r.id, amount: "120.40" });
  // Half-cent products, rejected so they do not disturb the hour totals above.
  for (const [hours, billRate] of [
    ["1.50", "0.99"],
    ["2.50", "0.99"],
    ["0.50", "0.01"],
    ["3.30", "0.15"],
  ] as const) {
    await buildTimeEntry(t.db, {
      projectId: p.id,
      resourceId: r.id,
      hours,
      billRate,
      status: "REJECTED",
    });
  }
  Object.assign(ids, {
    le: le.id,
    customer: cust.id,
    contract: k.id,
    project: p.id,
    resource: r.id,
    assignment: a.id,
    milestone: m.id,
    timeEntry: te.id,
    expense: ex.id,
  });

  // Bulk: projects in USD under a second customer, each with time entries, a milestone and an assignment.
  const le2 = await buildLegalEntity(t.db, { currency: "USD", country: "US" });
  const cust2 = await buildCustomer(t.db, { legalEntityId: le2.id, currency: "USD" });
  const k2 = await buildContract(t.db, {
    customerId: cust2.id,
    legalEntityId: le2.id,
    currency: "USD",
  });
  const resources = await Promise.all(
    [0, 1, 2].map(() => buildResource(t.db, { currency: "USD", legalEntityId: le2.id })),
  );
  const rows: (typeof timeEntry.$inferInsert)[] = [];
  for (let i = 0; i < BULK_PROJECTS; i++) {
    const bp = await buildProject(t.db, {
      contractId: k2.id,
      customerId: cust2.id,
      currency: "USD",
      status: i % 3 === 0 ? "PLANNED" : "ACTIVE",
    });
    const res = resources[i % 3]!;
    await buildAssignment(t.db, { projectId: bp.id, resourceId: res.id });
    await buildMilestone(t.db, { projectId: bp.id, currency: "USD" });
    for (let n = 0; n < ENTRIES_PER_PROJECT; n++) {
      rows.push({
        projectId: bp.id,
        resourceId: res.id,
        workDate: `2026-04-${String((n % 5) + 1).padStart(2, "0")}`, // ties on work date
        hours: "1.25",
        billRate: "200.00",
        currency: "USD",
        status: n % 2 === 0 ? "APPROVED" : "SUBMITTED",
      });
    }
  }
  await t.db.insert(timeEntry).values(rows);
  server = createProjectSubgraph(t.db);
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
  it("resolves every owned type by key, and adds projects/resources to referenced entities", async () => {
    const result = await run(
      `query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Project { code customer { id } contract { id } budgetAmount { amount } hoursSummary { total submitted approved billed billable remaining } }
        ... on Milestone { name amount { amount currency } project { code } }
        ... on Resource { billRate { amount currency } legalEntity { id } }
        ... on Assignment { billRateOverride { amount } effectiveBillRate { amount currency } project { code } resource { id } }
        ... on TimeEntry { hours billRate { amount } amount { amount currency } status project { code } }
        ... on Expense { amount { amount currency } category }
        ... on Customer { projects { totalCount nodes { code } } }
        ... on Contract { projects { totalCount } }
        ... on LegalEntity { resources { totalCount } }
      } }`,
      {
        r: [
          { __typename: "Project", id: ids.project },
          { __typename: "Milestone", id: ids.milestone },
          { __typename: "Resource", id: ids.resource },
          { __typename: "Assignment", id: ids.assignment },
          { __typename: "TimeEntry", id: ids.timeEntry },
          { __typename: "Expense", id: ids.expense },
          { __typename: "Customer", id: ids.customer },
          { __typename: "Contract", id: ids.contract },
          { __typename: "LegalEntity", id: ids.le },
          { __typename: "Project", id: "00000000-0000-4000-8000-000000000000" },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    const [p, m, r, a, te, ex, c, k, le, missing] = result.data!._entities;
    expect(p).toEqual({
      code: "P-MAIN",
      customer: { id: ids.customer },
      contract: { id: ids.contract },
      budgetAmount: null,
      // not rejected: 7.50 + 2.25 + 1.00 + 0.10
      hoursSummary: {
        total: "10.85",
        submitted: "1.00",
        approved: "7.60",
        billed: "2.25",
        billable: "9.75",
        remaining: "89.15",
      },
    });
    expect(m).toEqual({
      name: expect.any(String),
      amount: { amount: "25000.00", currency: "GBP" },
      project: { code: "P-MAIN" },
    });
    expect(r).toEqual({
      billRate: { amount: "150.00", currency: "GBP" },
      legalEntity: { id: ids.le },
    });
    expect(a).toEqual({
      billRateOverride: { amount: "175.50" },
      effectiveBillRate: { amount: "175.50", currency: "GBP" },
      project: { code: "P-MAIN" },
      resource: { id: ids.resource },
    });
    expect(te).toEqual({
      hours: "7.50",
      billRate: { amount: "150.00" },
      amount: { amount: "1125.00", currency: "GBP" },
      status: "APPROVED",
      project: { code: "P-MAIN" },
    });
    expect(ex).toEqual({ amount: { amount: "120.40", currency: "GBP" }, category: "TRAVEL" });
    expect(c).toEqual({ projects: { totalCount: 1, nodes: [{ code: "P-MAIN" }] } });
    expect(k).toEqual({ projects: { totalCount: 1 } });
    expect(le).toEqual({ resources: { totalCount: 1 } });
    expect(missing).toBeNull();
  });
});

describe("money", () => {
  it("TimeEntry.amount equals the hub's SQL rounding (half-even) for every entry", async () => {
    const r = await run(`{ timeEntries(first: 500) { nodes { id amount { amount } } } }`);
    expect(r.errors).toBeUndefined();
    const expected = await t.sql<{ id: string; amount: string }[]>`
      select id::text, pshub_round_half_even(hours * bill_rate, 2)::numeric(18,2)::text as amount
      from time_entry`;
    const byId = new Map(expected.map((e) => [e.id, e.amount]));
    const nodes = r.data!.timeEntries.nodes as { id: string; amount: { amount: string } }[];
    expect(nodes).toHaveLength(expected.length);
    for (const node of nodes) expect(node.amount.amount, node.id).toBe(byId.get(node.id));
    expect(new Set(nodes.map((n) => n.amount.amount))).toContain("1.48");
  });
});

describe("lists", () => {
  it("pages through every time entry exactly once in (work date, id) order", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const r: OperationResult = await run(
        `query($after: String) { timeEntries(first: 40, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.timeEntries.totalCount).toBe(9 + BULK_PROJECTS * ENTRIES_PER_PROJECT);
      seen.push(...r.data!.timeEntries.edges.map((e: { node: { id: string } }) => e.node.id));
      after = r.data!.timeEntries.pageInfo.hasNextPage
        ? r.data!.timeEntries.pageInfo.endCursor
        : null;
      pages++;
    } while (after);
    const expected = (
      await t.sql<{ id: string }[]>`select id from time_entry order by work_date, id`
    ).map((r) => r.id);
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 40));
  });

  it("pages a nested connection (Project.timeEntries) backward to the start", async () => {
    const first = await run(
      `{ projects(first: 1, filter: { currency: ["USD"] }) { nodes { id } } }`,
    );
    const projectId = first.data!.projects.nodes[0].id;
    const seen: string[] = [];
    let before: string | null = null;
    do {
      const r: OperationResult = await run(
        `query($id: ID!, $before: String) { project(id: $id) { timeEntries(last: 4, before: $before, orderBy: { field: WORK_DATE, direction: DESC }) { totalCount nodes { id } pageInfo { hasPreviousPage startCursor } } } }`,
        { id: projectId, before },
      );
      expect(r.errors).toBeUndefined();
      const conn = r.data!.project.timeEntries;
      expect(conn.totalCount).toBe(ENTRIES_PER_PROJECT);
      seen.unshift(...conn.nodes.map((n: { id: string }) => n.id));
      before = conn.pageInfo.hasPreviousPage ? conn.pageInfo.startCursor : null;
    } while (before);
    const expected = (
      await t.sql<{ id: string }[]>`
        select id from time_entry where project_id = ${projectId} order by work_date desc, id desc`
    ).map((r) => r.id);
    expect(seen).toEqual(expected);
  });

  it("filters by status, customer, currency, dates and billable", async () => {
    const r = await run(
      `query($customer: ID!) {
        approved: timeEntries(filter: { status: [APPROVED], currency: ["USD"] }) { totalCount }
        ofCustomer: timeEntries(filter: { customerId: $customer }) { totalCount }
        nonBillable: timeEntries(filter: { billable: false }) { totalCount }
        april2: timeEntries(filter: { workDateFrom: "2026-04-02", workDateTo: "2026-04-02" }) { totalCount }
        planned: projects(filter: { status: [PLANNED] }) { totalCount }
        usdProjects: projects(filter: { currency: ["USD"] }, orderBy: { field: START_DATE, direction: DESC }) { totalCount }
        travel: expenses(filter: { category: ["TRAVEL"], customerId: $customer }) { totalCount }
        active: assignments(filter: { activeOn: "2026-07-01", projectId: null }) { totalCount }
        due: milestones(filter: { dueDateFrom: "2026-06-01", dueDateTo: "2026-06-30", currency: ["GBP"] }) { totalCount }
        gbpResources: resources(filter: { currency: ["GBP"], active: true }) { totalCount }
      }`,
      { customer: ids.customer },
    );
    expect(r.errors).toBeUndefined();
    const approvedPerProject = Math.ceil(ENTRIES_PER_PROJECT / 2);
    expect(r.data).toEqual({
      approved: { totalCount: BULK_PROJECTS * approvedPerProject },
      ofCustomer: { totalCount: 9 },
      nonBillable: { totalCount: 1 },
      april2: { totalCount: BULK_PROJECTS * 2 },
      planned: { totalCount: BULK_PROJECTS / 3 },
      usdProjects: { totalCount: BULK_PROJECTS },
      travel: { totalCount: 1 },
      // the main assignment ends 2026-06-30; bulk ones are open-ended
      active: { totalCount: BULK_PROJECTS },
      due: { totalCount: 1 },
      gbpResources: { totalCount: 1 },
    });
  });
});

describe("N+1", () => {
  const NESTED = `query($n: Int) { projects(first: $n) { nodes {
    code customer { id } contract { id } hoursSummary { total }
    milestones { nodes { amount { amount } project { code } } }
    assignments { nodes { effectiveBillRate { amount } resource { name } } }
    timeEntries(first: 3) { totalCount nodes { amount { amount } resource { name legalEntity { id } } project { code } } }
  } } }`;

  it("statements stay bounded by the query's depth while rows grow", async () => {
    const BOUND = 12;
    const counts: number[] = [];
    for (const n of [3, 15, 31]) {
      statements.length = 0;
      const r = await run(NESTED, { n });
      expect(r.errors).toBeUndefined();
      expect(r.data!.projects.nodes).toHaveLength(n);
      counts.push(statements.length);
    }
    for (const count of counts) expect(count).toBeLessThanOrEqual(BOUND);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
  });
});

describe("bad input", () => {
  it("answers with a code, never an internal error", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [`query($id: ID!) { project(id: $id) { id } }`, { id: "42" }, "BAD_USER_INPUT"],
      [
        `query($id: ID!) { timeEntry(id: $id) { id } }`,
        { id: "00000000-0000-4000-8000-000000000000" },
        "NOT_FOUND",
      ],
      [`{ timeEntries(after: "eyJmIjoxfQ") { totalCount } }`, {}, "BAD_USER_INPUT"],
      [`{ expenses(last: 2, after: "x") { totalCount } }`, {}, "BAD_USER_INPUT"],
      [`{ timeEntries(filter: { customerId: "acme" }) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [
        `{ timeEntries(filter: { status: [PAID] }) { totalCount } }`,
        {},
        "GRAPHQL_VALIDATION_FAILED",
      ],
      [`{ projects(first: 1.5) { totalCount } }`, {}, "GRAPHQL_VALIDATION_FAILED"],
      [
        `query($d: Date) { timeEntries(filter: { workDateFrom: $d }) { totalCount } }`,
        { d: "04/02/2026" },
        "BAD_USER_INPUT",
      ],
    ];
    for (const [query, variables, code] of cases) {
      const r = await run(query, variables);
      expect(r.errors?.[0]?.extensions?.code, query).toBe(code);
    }
  });

  it("caps first: 100000 at 500 and says so", async () => {
    const r = await run(`{ timeEntries(first: 100000) { totalCount nodes { id } } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data!.timeEntries.nodes).toHaveLength(Math.min(500, r.data!.timeEntries.totalCount));
    expect(JSON.stringify(r.extensions?.warnings)).toMatch(/capped at 500/);
  });
});

describe("process", () => {
  let running: RunningSubgraph;
  beforeAll(async () => {
    running = await listen(createProjectSubgraph(t.db), { port: 0 });
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
        query: `query($id: ID!) { project(id: $id) { code } }`,
        variables: { id: ids.project },
      }),
    });
    expect(await res.json()).toEqual({ data: { project: { code: "P-MAIN" } } });
  });
});
