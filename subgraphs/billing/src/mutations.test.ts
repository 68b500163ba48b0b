/** runBilling through the billing subgraph (db/src/lifecycle). */

import { execute, operations as op } from "@pshub/db";
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
});
