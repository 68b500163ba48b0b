/**
 * runBilling is set-based: the statements it sends do not depend on how many items it bills (no
 * per-row round trips for the events, the BILLED marking or the domain events), and every billing
 * event it creates has exactly one billing_event.created domain event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { addTime, newResource, seedBasics, wonOpportunity } from "../testing/lifecycle.ts";
import { execute, type OperationContext, operations as op } from "./index.ts";

let t: TestDatabase;
const statements: string[] = [];
beforeAll(async () => {
  t = await createTestDatabase({ onQuery: (query) => statements.push(query) });
});
afterAll(async () => {
  await t?.drop();
});

const ctx: OperationContext = { actor: "billing@firm.test", requestId: "req-billing" };

/** An active T&M contract with `entries` approved billable time entries in January. */
async function contractWithTime(entries: number) {
  const basics = await seedBasics(t.db);
  const opportunityId = await wonOpportunity(t.db, basics);
  const converted = await execute(t.db, op.convertOpportunity, ctx, { opportunityId });
  await execute(t.db, op.activateProject, ctx, { projectId: converted.project.id });
  const ids = await addTime(
    t.db,
    converted.project.id,
    await newResource(t.db),
    Array.from({ length: entries }, (_, i) => ({
      workDate: `2026-01-${String(1 + (i % 28)).padStart(2, "0")}`,
      hours: "1.50",
      billRate: "120.00",
    })),
  );
  await execute(t.db, op.approveTimeEntries, ctx, { ids });
  return { contractId: converted.contract.id };
}

/** runBilling for one contract; the statements it sent. */
async function bill(contractId: string) {
  statements.length = 0;
  const result = await execute(t.db, op.runBilling, ctx, { contractId, periodEnd: "2026-01-31" });
  return { result, statements: [...statements] };
}

describe("runBilling", () => {
  it("sends the same statements for 2 items as for 60, and emits one domain event per billing event", async () => {
    const small = await contractWithTime(2);
    const large = await contractWithTime(60);
    const few = await bill(small.contractId);
    const many = await bill(large.contractId);
    expect(few.result.eventsCreated).toBe(2);
    expect(many.result.eventsCreated).toBe(60);
    expect(many.statements.length).toBe(few.statements.length);
    expect(many.statements).toEqual(few.statements);

    const [row] = await t.sql<{ billed: number; events: number; once: number; marked: number }[]>`
      select
        (select count(*)::int from billing_event where contract_id = ${large.contractId}) as billed,
        (select count(*)::int from domain_event d join billing_event b on b.id = d.entity_id
          where d.type = 'billing_event.created' and b.contract_id = ${large.contractId}) as events,
        (select count(distinct d.entity_id)::int from domain_event d join billing_event b on b.id = d.entity_id
          where d.type = 'billing_event.created' and b.contract_id = ${large.contractId}) as once,
        (select count(*)::int from time_entry te join project p on p.id = te.project_id
          where p.contract_id = ${large.contractId} and te.status = 'BILLED') as marked`;
    expect(row).toEqual({ billed: 60, events: 60, once: 60, marked: 60 });

    // A second run bills nothing and marks nothing again.
    const again = await bill(large.contractId);
    expect(again.result.eventsCreated).toBe(0);
    const [after] = await t.sql<{ events: number }[]>`
      select count(*)::int as events from domain_event where type = 'billing_event.created'`;
    expect(after!.events).toBe(62);
  });
});
