/**
 * runBilling is set-based: the statements it sends do not depend on how many items it bills (no
 * per-row round trips for the events, the BILLED marking or the domain events), and every billing
 * event it creates has exactly one billing_event.created domain event. It bills exactly the entries
 * it marks BILLED, also when another transaction changes one of them during the run.
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

/** Polls (up to 5 s) until `n` backends of this database wait on a lock; how many do. */
async function waitingOnLocks(n: number): Promise<number> {
  for (let i = 0; ; i++) {
    const [row] = await t.sql<{ waiting: number }[]>`
      select count(*)::int as waiting from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`;
    if ((row?.waiting ?? 0) >= n || i === 200) return row?.waiting ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
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

  it("bills retainer overage only for the entries it marks BILLED: one rejected meanwhile is neither marked nor billed", async () => {
    const basics = await seedBasics(t.db);
    const opportunityId = await wonOpportunity(t.db, basics, {
      billingModel: "RETAINER",
      amount: "60000.00",
      retainerAmount: "5000.00",
      retainerHours: "10.00",
      startDate: "2026-01-01",
    });
    const converted = await execute(t.db, op.convertOpportunity, ctx, { opportunityId });
    await execute(t.db, op.activateProject, ctx, { projectId: converted.project.id });
    const [covered, over] = await addTime(t.db, converted.project.id, await newResource(t.db), [
      { workDate: "2026-01-05", hours: "8.00", billRate: "200.00" },
      { workDate: "2026-01-20", hours: "6.00", billRate: "200.00" }, // 4 h above the 10 h
    ]);
    await execute(t.db, op.approveTimeEntries, ctx, { ids: [covered!, over!] });

    // Another transaction rejects the overage entry and commits only once runBilling waits on it.
    const other = await t.sql.reserve();
    try {
      await other`begin`;
      await other`update time_entry set status = 'REJECTED', version = version + 1 where id = ${over!}`;
      const running = bill(converted.contract.id);
      expect(await waitingOnLocks(1)).toBe(1);
      await other`commit`;
      const { result } = await running;
      expect(result.bySourceType).toMatchObject({ RETAINER: 1, TIME: 0 });
    } finally {
      other.release();
    }
    const entries = await t.sql<{ id: string; status: string }[]>`
      select id, status::text from time_entry where id in (${covered!}, ${over!}) order by work_date`;
    expect(entries).toEqual([
      { id: covered, status: "BILLED" },
      { id: over, status: "REJECTED" },
    ]);
    const [events] = await t.sql<{ n: number }[]>`
      select count(*)::int as n from billing_event where source_type = 'TIME' and source_id = ${over!}`;
    expect(events!.n).toBe(0);
  });
});
