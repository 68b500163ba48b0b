/** resolveException and lineage through the ops subgraph (db/src/lifecycle). */

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
import { createOpsSubgraph } from "./index.ts";

let t: TestDatabase;
let server: ReturnType<typeof createOpsSubgraph>;
let opportunityId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  server = createOpsSubgraph(t.db);
  const ctx = { actor: "setup" };
  const basics = await seedBasics(t.db);
  opportunityId = await wonOpportunity(t.db, basics);
  const conv = await execute(t.db, op.convertOpportunity, ctx, { opportunityId });
  await execute(t.db, op.activateProject, ctx, { projectId: conv.project.id });
  const ids = await addTime(t.db, conv.project.id, await newResource(t.db), [
    { workDate: "2026-01-05", hours: "8.00", billRate: "100.00" },
  ]);
  await execute(t.db, op.approveTimeEntries, ctx, { ids });
  await execute(t.db, op.runBilling, ctx, {
    contractId: conv.contract.id,
    periodEnd: "2026-01-31",
  });
});
afterAll(async () => {
  await t?.drop();
});

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables, { "x-pshub-principal": "ops@firm.test" });

describe("ops mutations and lineage", () => {
  it("lineage answers the chain from the opportunity, in order", async () => {
    const result = await run(
      `query($id: ID!) { lineage(entityType: OPPORTUNITY, id: $id) {
          correlationId hasMore events { id type entityType payload actor correlationId } entities { entityType eventCount } } }`,
      { id: opportunityId },
    );
    expect(result.errors).toBeUndefined();
    const chain = result.data!.lineage;
    expect(chain.events[0]).toMatchObject({
      type: "opportunity.converted",
      entityType: "opportunity",
    });
    expect(chain.events.map((e: { type: string }) => e.type)).toContain("billing_event.created");
    // Every event of the chain carries the chain's correlation id.
    expect(chain.correlationId).toBeTruthy();
    expect(new Set(chain.events.map((e: { correlationId: string }) => e.correlationId))).toEqual(
      new Set([chain.correlationId]),
    );
    const ids = chain.events.map((e: { id: string }) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(JSON.parse(chain.events[0].payload)).toMatchObject({
      from: "CLOSED_WON",
      to: "CONVERTED",
    });
    expect(chain.entities.map((e: { entityType: string }) => e.entityType)).toEqual(
      expect.arrayContaining(["opportunity", "contract", "project", "time_entry", "billing_event"]),
    );
  });

  it("resolveException closes an exception once", async () => {
    const basics = await seedBasics(t.db);
    const oppId = await wonOpportunity(t.db, basics, { billingModel: null });
    const failed = await execute(
      t.db,
      op.convertOpportunity,
      { actor: "setup" },
      { opportunityId: oppId },
    ).catch((e: { details: Record<string, unknown> }) => e.details);
    const exceptionId = (failed as { exceptionId: string }).exceptionId;
    const MUT = `mutation($id: ID!) { resolveException(exceptionId: $id, note: "model set") { id status resolvedBy } }`;
    const resolved = await run(MUT, { id: exceptionId });
    expect(resolved.data!.resolveException).toMatchObject({
      status: "RESOLVED",
      resolvedBy: "ops@firm.test",
    });
    const again = await run(MUT, { id: exceptionId });
    expect(again.errors![0]!.extensions).toMatchObject({ code: "INVALID_TRANSITION" });
  });
});
