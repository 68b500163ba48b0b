/**
 * The whole happy path, from a closed-won opportunity to a PAID invoice, for each billing model,
 * with amounts checked against hand-computed expectations (comments show the arithmetic).
 */
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  auditLog,
  billingEvent,
  domainEvent,
  feeScheduleItem,
  invoice,
  invoiceLine,
  milestone,
  payment,
  timeEntry,
} from "../schema.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import {
  addExpenses,
  addTime,
  newResource,
  seedBasics,
  wonOpportunity,
} from "../testing/lifecycle.ts";
import { execute, lineage, type OperationContext, operations as op } from "./index.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const ctx: OperationContext = { actor: "finance@firm.test", requestId: "req-1" };
const run = <I, R>(
  operation: { name: string; run: (...a: never[]) => Promise<R> } & I,
  input: unknown,
  key?: string,
) => execute(t.db, operation as never, ctx, input, { idempotencyKey: key }) as Promise<R>;

async function convertAndActivate(oppId: string) {
  const converted = await run(op.convertOpportunity, { opportunityId: oppId });
  await run(op.activateProject, { projectId: converted.project.id });
  return converted;
}

async function invoiceStatus(id: string) {
  const [row] = await t.db.select().from(invoice).where(eq(invoice.id, id));
  return row!;
}

describe("quote to cash", () => {
  it("TIME_AND_MATERIALS: approved billable hours × rate snapshot + approved billable expenses", async () => {
    const basics = await seedBasics(t.db, { taxRate: "0.0500" });
    const oppId = await wonOpportunity(t.db, basics, { billingModel: "TIME_AND_MATERIALS" });
    const { project, contract } = await convertAndActivate(oppId);
    expect(contract.status).toBe("DRAFT"); // as converted; activation moved it on
    const res = await newResource(t.db);
    const [a, b, c, nonBillable, rejected, later] = await addTime(t.db, project.id, res, [
      { workDate: "2026-01-05", hours: "7.50", billRate: "150.00" }, // 1125.00
      { workDate: "2026-01-06", hours: "3.25", billRate: "133.33" }, // 433.3225 → 433.32
      { workDate: "2026-01-07", hours: "1.50", billRate: "0.99" }, // 1.485 → 1.48 (half-even)
      { workDate: "2026-01-07", hours: "2.00", billRate: "150.00", billable: false },
      { workDate: "2026-01-08", hours: "4.00", billRate: "150.00" },
      { workDate: "2026-02-02", hours: "8.00", billRate: "150.00" }, // after the period end
    ]);
    const [e1, e2, eSubmitted] = await addExpenses(t.db, project.id, res, [
      { incurredOn: "2026-01-10", amount: "245.67" },
      { incurredOn: "2026-01-11", amount: "10.10" },
      { incurredOn: "2026-01-12", amount: "99.00" },
    ]);
    await run(op.approveTimeEntries, { ids: [a, b, c, nonBillable, later] });
    await run(op.rejectTimeEntries, { ids: [rejected], reason: "wrong project" });
    await run(op.approveExpenses, { ids: [e1, e2] });
    void eSubmitted;

    const billed = await run(op.runBilling, { contractId: contract.id, periodEnd: "2026-01-31" });
    expect(billed.eventsCreated).toBe(5);
    expect(billed.bySourceType).toMatchObject({ TIME: 3, EXPENSE: 2 });
    // 1125.00 + 433.32 + 1.48 + 245.67 + 10.10
    expect(billed.totals).toEqual([{ currency: "USD", amount: "1815.57" }]);
    const again = await run(op.runBilling, { contractId: contract.id, periodEnd: "2026-01-31" });
    expect(again.eventsCreated).toBe(0);
    const [te] = await t.db.select().from(timeEntry).where(eq(timeEntry.id, a!));
    expect(te!.status).toBe("BILLED");
    const [nb] = await t.db.select().from(timeEntry).where(eq(timeEntry.id, nonBillable!));
    expect(nb!.status).toBe("APPROVED");

    const draft = await run(op.generateInvoice, {
      contractId: contract.id,
      periodEnd: "2026-01-31",
    });
    expect(draft.status).toBe("DRAFT");
    expect(draft.number).toBeNull(); // numbered when issued
    expect(draft.subtotal).toBe("1815.57");
    // tax 5 % per line, half-even: 56.25 + 21.666→21.67 + 0.074→0.07 + 12.2835→12.28 + 0.505→0.50
    expect(draft.tax).toBe("90.77");
    expect(draft.total).toBe("1906.34");
    const lines = await t.db.select().from(invoiceLine).where(eq(invoiceLine.invoiceId, draft.id));
    expect(lines).toHaveLength(5);

    const issued = await run(op.issueInvoice, { invoiceId: draft.id, issuedOn: "2026-02-01" });
    expect(issued.status).toBe("ISSUED");
    expect(issued.dueOn).toBe("2026-03-03"); // 30 days payment terms
    expect(issued.number).toMatch(/^INV-[0-9a-f]{8}-1$/); // the entity's first number
    const commands = await t.sql`select kind from outbound_command where entity_id = ${draft.id}`;
    expect(commands.map((c) => c.kind)).toEqual(["invoice.post"]);
    const posted = await run(op.markInvoicePosted, {
      invoiceId: draft.id,
      erpNumber: `ERP-${issued.number}`,
    });
    expect(posted.status).toBe("POSTED");
    // The status change queued its propagation in the same transaction, after the posting.
    const queued = await t.sql`
      select kind from outbound_command where entity_id = ${draft.id} order by seq`;
    expect(queued.map((c) => c.kind)).toEqual([
      "invoice.post",
      "invoice.status.salesforce",
      "invoice.status.psa",
    ]);

    const partial = await run(op.recordPayment, { invoiceId: draft.id, amount: "1000.00" });
    expect(partial.invoice.status).toBe("PARTIALLY_PAID");
    expect(partial.invoice.amountPaid).toBe("1000.00");
    await expect(
      run(op.recordPayment, { invoiceId: draft.id, amount: "1000.00" }),
    ).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { reason: "OVERPAYMENT", outstanding: "906.34" },
    });
    const paid = await run(op.recordPayment, { invoiceId: draft.id, amount: "906.34" });
    expect(paid.invoice.status).toBe("PAID");
    expect(paid.invoice.amountPaid).toBe("1906.34");

    // Lineage: from the opportunity to the payments, in order, one correlation id.
    const chain = await lineage(t.db, { entityType: "invoice", id: draft.id });
    expect(chain.correlationId).toBe(contract.correlationId);
    const types = chain.events.map((e) => e.type);
    expect(types[0]).toBe("opportunity.converted");
    expect(types.indexOf("billing_event.created")).toBeLessThan(types.indexOf("invoice.created"));
    expect(types.at(-1)).toBe("invoice.status_changed");
    expect(types.filter((x) => x === "payment.recorded")).toHaveLength(2);
    expect(chain.entities[0]).toMatchObject({ entityType: "opportunity", entityId: oppId });
    expect(chain.entities.map((e) => e.entityType)).toEqual(
      expect.arrayContaining([
        "contract",
        "project",
        "time_entry",
        "billing_event",
        "invoice",
        "payment",
      ]),
    );
    const fromOpp = await lineage(t.db, { entityType: "opportunity", id: oppId });
    expect(fromOpp.events.map((e) => e.id)).toEqual(chain.events.map((e) => e.id));

    // Audit: one row per successful operation, with the actor and the lineage id.
    const audits = await t.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.entityType, "invoice"), eq(auditLog.entityId, draft.id)));
    expect(audits.map((x) => x.operation)).toEqual(
      expect.arrayContaining(["generateInvoice", "issueInvoice", "recordPayment"]),
    );
    expect(audits.every((x) => x.actor === ctx.actor)).toBe(true);
    expect(audits.filter((x) => x.outcome === "VALIDATION_FAILED")).toHaveLength(1);
  });

  it("FIXED_FEE: the schedule items due, split exactly; the rest on a later invoice", async () => {
    const basics = await seedBasics(t.db, { taxRate: "0.2000" });
    const oppId = await wonOpportunity(t.db, basics, {
      billingModel: "FIXED_FEE",
      amount: "10000.00",
      installments: 3,
      startDate: "2026-01-15",
    });
    const { contract } = await convertAndActivate(oppId);
    const items = await t.db
      .select()
      .from(feeScheduleItem)
      .where(eq(feeScheduleItem.contractId, contract.id))
      .orderBy(feeScheduleItem.dueDate);
    expect(items.map((i) => [i.dueDate, i.amount])).toEqual([
      ["2026-01-15", "3333.33"],
      ["2026-02-15", "3333.33"],
      ["2026-03-15", "3333.34"],
    ]);
    const billed = await run(op.runBilling, {
      customerId: basics.customerId,
      periodEnd: "2026-02-28",
    });
    expect(billed.bySourceType.FIXED_FEE).toBe(2);
    expect(billed.totals).toEqual([{ currency: "USD", amount: "6666.66" }]);
    const inv = await run(op.generateInvoice, { contractId: contract.id, periodEnd: "2026-02-28" });
    // 20 % of 3333.33 = 666.666 → 666.67 per line
    expect([inv.subtotal, inv.tax, inv.total]).toEqual(["6666.66", "1333.34", "8000.00"]);
    await run(op.issueInvoice, { invoiceId: inv.id });
    const paid = await run(op.recordPayment, {
      invoiceId: inv.id,
      amount: "8000.00",
      erpId: "PMT-1",
    });
    expect(paid.invoice.status).toBe("PAID");

    await run(op.runBilling, { contractId: contract.id, periodEnd: "2026-03-31" });
    const last = await run(op.generateInvoice, {
      contractId: contract.id,
      periodEnd: "2026-03-31",
    });
    expect([last.subtotal, last.tax, last.total]).toEqual(["3333.34", "666.67", "4000.01"]);
  });

  it("RETAINER: the period's retainer plus the hours above it as T&M", async () => {
    const basics = await seedBasics(t.db, { taxRate: "0.1900" });
    const oppId = await wonOpportunity(t.db, basics, {
      billingModel: "RETAINER",
      amount: "60000.00",
      retainerAmount: "5000.00",
      retainerHours: "40.00",
      startDate: "2026-03-01",
    });
    const { project, contract } = await convertAndActivate(oppId);
    const res = await newResource(t.db);
    const ids = await addTime(t.db, project.id, res, [
      { workDate: "2026-03-02", hours: "20.00", billRate: "200.00" },
      { workDate: "2026-03-03", hours: "10.00", billRate: "200.00" },
      { workDate: "2026-03-20", hours: "15.00", billRate: "200.00" }, // 45 h: 5 h over 40 → 1000.00
      { workDate: "2026-04-02", hours: "8.00", billRate: "200.00" }, // April: within the retainer
    ]);
    const [exp] = await addExpenses(t.db, project.id, res, [
      { incurredOn: "2026-03-05", amount: "120.00" },
    ]);
    await run(op.approveTimeEntries, { ids });
    await run(op.approveExpenses, { ids: [exp] });
    const billed = await run(op.runBilling, { contractId: contract.id, periodEnd: "2026-04-30" });
    expect(billed.bySourceType).toMatchObject({ RETAINER: 2, TIME: 1, EXPENSE: 1 });
    // 5000.00 (March) + 5000.00 (April) + 5 h × 200.00 + 120.00
    expect(billed.totals).toEqual([{ currency: "USD", amount: "11120.00" }]);
    const overage = await t.db
      .select()
      .from(billingEvent)
      .where(and(eq(billingEvent.contractId, contract.id), eq(billingEvent.sourceType, "TIME")));
    expect(overage.map((o) => [o.sourceId, o.quantity, o.amount])).toEqual([
      [ids[2], "5.00", "1000.00"],
    ]);
    const statuses = await t.db
      .select({ s: timeEntry.status })
      .from(timeEntry)
      .where(eq(timeEntry.projectId, project.id));
    expect(statuses.every((r) => r.s === "BILLED")).toBe(true);
    expect(
      (await run(op.runBilling, { contractId: contract.id, periodEnd: "2026-04-30" }))
        .eventsCreated,
    ).toBe(0);

    const inv = await run(op.generateInvoice, { contractId: contract.id, periodEnd: "2026-04-30" });
    // tax 19 %: 950.00 + 950.00 + 190.00 + 22.80
    expect([inv.subtotal, inv.tax, inv.total]).toEqual(["11120.00", "2112.80", "13232.80"]);
    await run(op.issueInvoice, { invoiceId: inv.id });
    await run(op.recordPayment, { invoiceId: inv.id, amount: "13232.80" });
    expect((await invoiceStatus(inv.id)).status).toBe("PAID");
  });

  it("MILESTONE: approved milestones only, paid in two parts", async () => {
    const basics = await seedBasics(t.db, { taxRate: "0.0000" });
    const oppId = await wonOpportunity(t.db, basics, {
      billingModel: "MILESTONE",
      amount: "9000.00",
      installments: 3,
      startDate: "2026-01-01",
      endDate: "2026-03-31",
    });
    const { project, contract } = await convertAndActivate(oppId);
    const ms = await t.db
      .select()
      .from(milestone)
      .where(eq(milestone.projectId, project.id))
      .orderBy(milestone.dueDate);
    // 89 days spread in thirds: +29, +59, +89 days
    expect(ms.map((m) => [m.dueDate, m.amount])).toEqual([
      ["2026-01-30", "3000.00"],
      ["2026-03-01", "3000.00"],
      ["2026-03-31", "3000.00"],
    ]);
    await run(op.completeMilestone, { milestoneId: ms[0]!.id, completedOn: "2026-01-29" });
    await run(op.approveMilestone, { milestoneId: ms[0]!.id });
    await run(op.completeMilestone, { milestoneId: ms[1]!.id }); // completed, not approved: not billed
    const billed = await run(op.runBilling, { periodEnd: "2026-03-31" });
    expect(billed.contractIds).toContain(contract.id);
    const events = await t.db
      .select()
      .from(billingEvent)
      .where(eq(billingEvent.contractId, contract.id));
    expect(events.map((e) => [e.sourceType, e.sourceId, e.amount])).toEqual([
      ["MILESTONE", ms[0]!.id, "3000.00"],
    ]);
    const [m0] = await t.db.select().from(milestone).where(eq(milestone.id, ms[0]!.id));
    expect(m0!.status).toBe("BILLED");

    const inv = await run(op.generateInvoice, { contractId: contract.id, periodEnd: "2026-03-31" });
    expect([inv.subtotal, inv.tax, inv.total]).toEqual(["3000.00", "0.00", "3000.00"]);
    await run(op.issueInvoice, { invoiceId: inv.id, issuedOn: "2026-04-01" });
    const first = await run(op.recordPayment, {
      invoiceId: inv.id,
      amount: "1000",
      receivedOn: "2026-04-10",
    });
    expect(first.invoice.status).toBe("PARTIALLY_PAID");
    const second = await run(op.recordPayment, { invoiceId: inv.id, amount: "2000.00" });
    expect(second.invoice.status).toBe("PAID");
    const payments = await t.db.select().from(payment).where(eq(payment.invoiceId, inv.id));
    expect(payments.map((p) => p.amount).sort()).toEqual(["1000.00", "2000.00"]);
    const ev = await t.db
      .select({ type: domainEvent.type, payload: domainEvent.payload })
      .from(domainEvent)
      .where(and(eq(domainEvent.entityType, "invoice"), eq(domainEvent.entityId, inv.id)))
      .orderBy(domainEvent.id);
    expect(ev.map((e) => [e.type, e.payload.from ?? null, e.payload.to ?? null])).toEqual([
      ["invoice.created", null, null],
      ["invoice.status_changed", "DRAFT", "ISSUED"],
      ["invoice.status_changed", "ISSUED", "PARTIALLY_PAID"],
      ["invoice.status_changed", "PARTIALLY_PAID", "PAID"],
    ]);
    void sql;
  });
});
