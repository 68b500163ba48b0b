/** runBilling through the billing subgraph (db/src/lifecycle). */

import { execute, operations as op, runBillingCalendar } from "@pshub/db";
import {
  addTime,
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBillingSubgraph } from "./index.ts";

let t: TestDatabase;
let server: ReturnType<typeof createBillingSubgraph>;
let contractId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  server = createBillingSubgraph(t.db);
  const ctx = { actor: "setup" };
  const basics = await seedBasics(t.db);
  const opportunityId = await wonOpportunity(t.db, basics);
  const conv = await execute(t.db, op.convertOpportunity, ctx, { opportunityId });
  await execute(t.db, op.activateProject, ctx, { projectId: conv.project.id });
  const ids = await addTime(t.db, conv.project.id, await newResource(t.db), [
    { workDate: "2026-01-05", hours: "1.25", billRate: "99.99" }, // 124.9875 → 124.99
    { workDate: "2026-01-06", hours: "8.00", billRate: "100.00" }, // 800.00
  ]);
  await execute(t.db, op.approveTimeEntries, ctx, { ids });
  contractId = conv.contract.id;
});
afterAll(async () => {
  await t?.drop();
});

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables, { "x-pshub-principal": "billing@firm.test" });

const RUN = /* GraphQL */ `
  mutation($c: ID) {
    runBilling(contractId: $c, periodEnd: "2026-01-31") {
      periodEnd eventsCreated bySourceType { sourceType count } totals { amount currency }
      contracts { id }
    }
  }
`;

describe("billing mutations", () => {
  it("runBilling creates the events once", async () => {
    const first = await run(RUN, { c: contractId });
    expect(first.errors).toBeUndefined();
    expect(first.data!.runBilling).toMatchObject({
      eventsCreated: 2,
      totals: [{ amount: "924.99", currency: "USD" }],
      contracts: [{ id: contractId }],
    });
    expect(first.data!.runBilling.bySourceType).toContainEqual({ sourceType: "TIME", count: 2 });
    const second = await run(RUN, { c: contractId });
    expect(second.data!.runBilling.eventsCreated).toBe(0);
    const both = await run(
      `mutation { runBilling(contractId: "${contractId}", customerId: "${contractId}", periodEnd: "2026-01-31") { eventsCreated } }`,
    );
    expect(both.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
  });

  it("setBillingSchedule: finance or admin only, within the caller's legal entities; the schedule and its runs read back", async () => {
    const SET = /* GraphQL */ `
      mutation($c: ID!, $on: Boolean!) {
        setBillingSchedule(contractId: $c, enabled: $on, autoIssue: false) {
          kind enabled autoIssue updatedBy contract { id }
        }
      }
    `;
    const as = (roles: string, extra: Record<string, string> = {}) =>
      server.execute(
        SET,
        { c: contractId, on: true },
        { "x-pshub-principal": "someone@firm.test", "x-pshub-roles": roles, ...extra },
      );
    const analyst = await as("analyst");
    expect(analyst.errors![0]!.extensions).toMatchObject({ code: "FORBIDDEN" });
    const elsewhere = await as("finance", { "x-pshub-legal-entities": "NOWHERE" });
    expect(elsewhere.errors![0]!.extensions).toMatchObject({ code: "NOT_FOUND" });
    const [none] = await t.sql`select count(*)::int as n from billing_schedule`;
    expect(none!.n).toBe(0);

    const finance = await as("finance");
    expect(finance.errors).toBeUndefined();
    expect(finance.data!.setBillingSchedule).toEqual({
      kind: "MONTHLY",
      enabled: true,
      autoIssue: false,
      updatedBy: "someone@firm.test",
      contract: { id: contractId },
    });
    const bad = await server.execute(
      `mutation($c: ID!) { setBillingSchedule(contractId: $c, enabled: true, kind: FIXED_FEE_DATES) { kind } }`,
      { c: contractId },
      { "x-pshub-principal": "admin@firm.test", "x-pshub-roles": "admin" },
    );
    expect(bad.errors![0]!.extensions).toMatchObject({ code: "VALIDATION_FAILED" });

    await runBillingCalendar(t.db, { today: "2026-03-02" });
    const read = await run(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Contract {
        billingSchedule { kind enabled runs { period periodEnd status eventsCreated invoice { id } } } } } }`,
      { r: [{ __typename: "Contract", id: contractId }] },
    );
    expect(read.errors).toBeUndefined();
    const schedule = read.data!._entities[0].billingSchedule;
    expect(schedule).toMatchObject({ kind: "MONTHLY", enabled: true });
    expect(schedule.runs).toHaveLength(1);
    expect(schedule.runs[0]).toMatchObject({
      period: "2026-02",
      periodEnd: "2026-02-28",
      status: "INVOICED",
    });
    expect(schedule.runs[0].invoice.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
