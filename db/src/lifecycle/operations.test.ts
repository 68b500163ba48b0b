/**
 * Refusals and guarantees of the lifecycle operations on real Postgres: wrong transitions, missing
 * rows and bad input are typed errors with nothing changed; conversion problems become sync
 * exceptions for SALES_OPS; void releases billing events; disputes; concurrency.
 */
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DomainError } from "../errors.ts";
import {
  billingEvent,
  contract,
  customer,
  invoice,
  invoiceLine,
  opportunity,
  payment,
  syncException,
  timeEntry,
} from "../schema.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { addTime, newResource, seedBasics, wonOpportunity } from "../testing/lifecycle.ts";
import { execute, type OperationContext, operations as op } from "./index.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ max: 25 });
});
afterAll(async () => {
  await t?.drop();
});

const ctx: OperationContext = { actor: "ops@firm.test", requestId: "req-ops" };
const run = <R>(operation: { run: (...a: never[]) => Promise<R> }, input: unknown, key?: string) =>
  execute(t.db, operation as never, ctx, input, { idempotencyKey: key }) as Promise<R>;

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    return error as DomainError;
  }
  throw new Error("expected the operation to fail");
}

const count = async (table: string) =>
  (await t.sql.unsafe(`select count(*)::int as n from ${table}`))[0]!.n as number;

/** A T&M contract, activated, with approved billable time worth 100.00 per entry. */
async function billableContract(entries = 3, taxRate = "0.1000") {
  const basics = await seedBasics(t.db, { taxRate });
  const oppId = await wonOpportunity(t.db, basics);
  const converted = await run(op.convertOpportunity, { opportunityId: oppId });
  await run(op.activateProject, { projectId: converted.project.id });
  const res = await newResource(t.db);
  const ids = await addTime(
    t.db,
    converted.project.id,
    res,
    Array.from({ length: entries }, (_, i) => ({
      workDate: `2026-01-${String(i + 1).padStart(2, "0")}`,
      hours: "1.00",
      billRate: "100.00",
    })),
  );
  await run(op.approveTimeEntries, { ids });
  await run(op.runBilling, { contractId: converted.contract.id, periodEnd: "2026-01-31" });
  return { ...converted, basics, timeEntryIds: ids, resourceId: res };
}

describe("convertOpportunity", () => {
  it("refuses an open, a lost and an already converted opportunity (INVALID_TRANSITION)", async () => {
    const basics = await seedBasics(t.db);
    const open = await wonOpportunity(t.db, basics, { stage: "PROPOSAL", isWon: false });
    const lost = await wonOpportunity(t.db, basics, { stage: "CLOSED_LOST", isWon: false });
    const early = await failure(run(op.convertOpportunity, { opportunityId: open }));
    expect(early.code).toBe("INVALID_TRANSITION");
    // The graph's names: an OpportunityStage, the GraphQL type name; no internal "OPEN → CONVERTED".
    expect(early.message).toBe(
      `Opportunity ${open} is in stage PROPOSAL: only a CLOSED_WON opportunity can be converted`,
    );
    expect(early.details).toEqual({
      entityType: "Opportunity",
      id: open,
      stage: "PROPOSAL",
      isWon: false,
      reason: "NOT_CLOSED_WON",
    });
    expect(
      (await failure(run(op.convertOpportunity, { opportunityId: lost }))).details,
    ).toMatchObject({ stage: "CLOSED_LOST", reason: "NOT_CLOSED_WON" });
    const won = await wonOpportunity(t.db, basics);
    await run(op.convertOpportunity, { opportunityId: won });
    const contracts = await count("contract");
    const again = await failure(run(op.convertOpportunity, { opportunityId: won }));
    expect(again.code).toBe("INVALID_TRANSITION");
    expect(again.details).toMatchObject({
      entityType: "Opportunity",
      stage: "CLOSED_WON",
      reason: "ALREADY_CONVERTED",
    });
    expect(again.message).toMatch(new RegExp(`^Opportunity ${won} is already converted \\(at `));
    expect(await count("contract")).toBe(contracts);
  });

  it("missing data: VALIDATION_FAILED naming every field, a SALES_OPS exception, nothing created", async () => {
    const basics = await seedBasics(t.db, { customerLegalEntity: false });
    // The customer's jurisdiction has no rate; no legal entity anywhere; wrong currency; no model.
    await t.db
      .update(customer)
      .set({ taxJurisdiction: "NOWHERE" })
      .where(eq(customer.id, basics.customerId));
    const oppId = await wonOpportunity(t.db, basics, {
      legalEntityId: null,
      currency: "EUR",
      billingModel: null,
    });
    const before = { contracts: await count("contract"), projects: await count("project") };
    const error = await failure(run(op.convertOpportunity, { opportunityId: oppId }));
    expect(error.code).toBe("VALIDATION_FAILED");
    const fields = (error.details.problems as { field: string }[]).map((p) => p.field).sort();
    expect(fields).toEqual([
      "Account.Tax_Jurisdiction__c",
      "Opportunity.Billing_Model__c",
      "Opportunity.CurrencyIsoCode",
      "Opportunity.Legal_Entity__c",
    ]);
    expect(await count("contract")).toBe(before.contracts);
    expect(await count("project")).toBe(before.projects);
    const [exception] = await t.db
      .select()
      .from(syncException)
      .where(eq(syncException.id, error.details.exceptionId as string));
    expect(exception).toMatchObject({
      owner: "SALES_OPS",
      code: "CONVERSION_BLOCKED",
      entityType: "opportunity",
      entityId: oppId,
      status: "OPEN",
    });
    expect(exception!.remediation).toContain("Opportunity.Legal_Entity__c");
    expect(exception!.remediation).toContain(oppId);
    expect(exception!.remediation).toContain("NOWHERE");
    expect(exception!.dueAt.getTime()).toBeGreaterThan(Date.now());
    const [opp] = await t.db.select().from(opportunity).where(eq(opportunity.id, oppId));
    expect(opp!.convertedAt).toBeNull();

    // Raising it again refreshes the same open exception.
    const second = await failure(run(op.convertOpportunity, { opportunityId: oppId }));
    expect(second.details.exceptionId).toBe(error.details.exceptionId);

    // The owner resolves it, once.
    const resolved = await run(op.resolveException, {
      exceptionId: error.details.exceptionId,
      note: "fixed in Salesforce",
    });
    expect(resolved).toMatchObject({ status: "RESOLVED", resolvedBy: ctx.actor });
    const twice = await failure(
      run(op.resolveException, {
        exceptionId: error.details.exceptionId,
        note: "again",
        ignore: true,
      }),
    );
    expect(twice.details).toMatchObject({ from: "RESOLVED", to: "IGNORED" });
  });

  it("checks the account hierarchy: an inactive parent blocks conversion", async () => {
    const basics = await seedBasics(t.db);
    const [parent] = await t.db
      .insert(customer)
      .values({ name: "Holding", currency: "USD", status: "INACTIVE" })
      .returning();
    await t.db
      .update(customer)
      .set({ parentId: parent!.id })
      .where(eq(customer.id, basics.customerId));
    const oppId = await wonOpportunity(t.db, basics);
    const error = await failure(run(op.convertOpportunity, { opportunityId: oppId }));
    expect(error.details.problems).toEqual([
      expect.objectContaining({
        field: "Account.Status",
        record: expect.stringContaining(parent!.id),
      }),
    ]);
  });

  it("RETAINER without terms and bad input are refused", async () => {
    const basics = await seedBasics(t.db);
    const oppId = await wonOpportunity(t.db, basics, { billingModel: "RETAINER" });
    const error = await failure(run(op.convertOpportunity, { opportunityId: oppId }));
    expect((error.details.problems as { field: string }[]).map((p) => p.field)).toEqual([
      "Opportunity.Retainer_Amount__c",
      "Opportunity.Retainer_Hours__c",
    ]);
    expect((await failure(run(op.convertOpportunity, { opportunityId: "nope" }))).code).toBe(
      "BAD_USER_INPUT",
    );
    expect((await failure(run(op.convertOpportunity, { opportunityId: randomUUID() }))).code).toBe(
      "NOT_FOUND",
    );
  });
});

describe("delivery transitions", () => {
  it("approve/reject: refused transitions and missing rows change nothing (bulk is all-or-nothing)", async () => {
    const { project, resourceId } = await billableContract(1);
    const [a, b] = await addTime(t.db, project.id, resourceId, [
      { workDate: "2026-02-01", hours: "2.00", billRate: "100.00" },
      { workDate: "2026-02-02", hours: "2.00", billRate: "100.00" },
    ]);
    await run(op.approveTimeEntries, { ids: [a] });
    const versions = async () =>
      (await t.db.select().from(timeEntry).where(eq(timeEntry.projectId, project.id)))
        .map((r) => `${r.id}:${r.status}:${r.version}`)
        .sort();
    const before = await versions();
    const twice = await failure(run(op.approveTimeEntries, { ids: [b, a] }));
    expect(twice.code).toBe("INVALID_TRANSITION");
    expect(twice.details).toMatchObject({ id: a, from: "APPROVED", to: "APPROVED" });
    const missing = await failure(run(op.approveTimeEntries, { ids: [b, randomUUID()] }));
    expect(missing.code).toBe("NOT_FOUND");
    const noReason = await failure(run(op.rejectTimeEntries, { ids: [b], reason: " " }));
    expect(noReason.code).toBe("BAD_USER_INPUT");
    expect(await versions()).toEqual(before);
    const [rejected] = await run(op.rejectTimeEntries, { ids: [b], reason: "duplicate" });
    expect(rejected!.status).toBe("REJECTED");
  });

  it("projects and milestones refuse wrong transitions", async () => {
    const { project } = await billableContract(1);
    expect(
      (await failure(run(op.activateProject, { projectId: project.id }))).details,
    ).toMatchObject({
      from: "ACTIVE",
      to: "ACTIVE",
    });
    const basics = await seedBasics(t.db);
    const oppId = await wonOpportunity(t.db, basics, {
      billingModel: "MILESTONE",
      installments: 2,
    });
    const conv = await run(op.convertOpportunity, { opportunityId: oppId });
    const [m] =
      await t.sql`select id from milestone where project_id = ${conv.project.id} order by due_date limit 1`;
    const early = await failure(run(op.approveMilestone, { milestoneId: m!.id }));
    expect(early.details).toMatchObject({ from: "OPEN", to: "APPROVED" });
    await run(op.completeMilestone, { milestoneId: m!.id });
    expect((await failure(run(op.completeMilestone, { milestoneId: m!.id }))).code).toBe(
      "INVALID_TRANSITION",
    );
  });
});

describe("invoices", () => {
  it("refuses to issue twice, to pay a draft, to void a paid invoice", async () => {
    const { contract: c } = await billableContract(2);
    const inv = await run(op.generateInvoice, { contractId: c.id, periodEnd: "2026-01-31" });
    expect([inv.subtotal, inv.tax, inv.total]).toEqual(["200.00", "20.00", "220.00"]);
    const draftPay = await failure(run(op.recordPayment, { invoiceId: inv.id, amount: "1.00" }));
    expect(draftPay.details).toMatchObject({ from: "DRAFT", to: "PARTIALLY_PAID" });
    await run(op.issueInvoice, { invoiceId: inv.id });
    expect((await failure(run(op.issueInvoice, { invoiceId: inv.id }))).details).toMatchObject({
      from: "ISSUED",
      to: "ISSUED",
    });
    const negative = await failure(run(op.recordPayment, { invoiceId: inv.id, amount: "-5" }));
    expect([negative.code, negative.message]).toEqual([
      "BAD_USER_INPUT",
      "invalid input: amount: must be positive (greater than zero); got -5",
    ]);
    expect(
      (await failure(run(op.recordPayment, { invoiceId: inv.id, amount: "0.001" }))).code,
    ).toBe("BAD_USER_INPUT");
    await run(op.recordPayment, { invoiceId: inv.id, amount: "20.00" });
    const voidPartly = await failure(run(op.voidInvoice, { invoiceId: inv.id, reason: "oops" }));
    expect(voidPartly.details).toMatchObject({ from: "PARTIALLY_PAID", to: "VOID" });
    await run(op.disputeInvoice, { invoiceId: inv.id, reason: "rate" });
    const voidPaid = await failure(run(op.voidInvoice, { invoiceId: inv.id, reason: "oops" }));
    expect(voidPaid.details).toMatchObject({ reason: "HAS_PAYMENTS" });
    expect((await t.db.select().from(invoice).where(eq(invoice.id, inv.id)))[0]!.status).toBe(
      "DISPUTED",
    );
    const nothing = await failure(
      run(op.generateInvoice, { contractId: c.id, periodEnd: "2026-01-31" }),
    );
    expect(nothing.details).toMatchObject({ reason: "NOTHING_TO_INVOICE" });
  });

  it("void releases the billing events to READY; they are invoiced again on a new invoice", async () => {
    const { contract: c } = await billableContract(3);
    const first = await run(op.generateInvoice, { contractId: c.id, periodEnd: "2026-01-31" });
    await run(op.issueInvoice, { invoiceId: first.id });
    const voided = await run(op.voidInvoice, { invoiceId: first.id, reason: "wrong PO number" });
    expect(voided.status).toBe("VOID");
    const events = await t.db.select().from(billingEvent).where(eq(billingEvent.contractId, c.id));
    expect(events.map((e) => e.status)).toEqual(["READY", "READY", "READY"]);
    const second = await run(op.generateInvoice, { contractId: c.id, periodEnd: "2026-01-31" });
    expect(second.id).not.toBe(first.id);
    expect(second.total).toBe(first.total);
    const live =
      await t.sql`select count(*)::int as n from invoice_line where invoice_id = ${first.id} and voided_at is null`;
    expect(live[0]!.n).toBe(0);
    expect(
      (await failure(run(op.voidInvoice, { invoiceId: first.id, reason: "again" }))).code,
    ).toBe("INVALID_TRANSITION");
  });

  it("dispute and resolve: the invoice returns to where it was; no payment while disputed", async () => {
    const { contract: c } = await billableContract(1);
    const inv = await run(op.generateInvoice, { contractId: c.id, periodEnd: "2026-01-31" });
    await run(op.issueInvoice, { invoiceId: inv.id });
    await run(op.recordPayment, { invoiceId: inv.id, amount: "50.00" });
    const opened = await run(op.disputeInvoice, { invoiceId: inv.id, reason: "hours disputed" });
    expect(opened.invoice.status).toBe("DISPUTED");
    expect(opened.dispute.status).toBe("OPEN");
    expect(
      (await failure(run(op.recordPayment, { invoiceId: inv.id, amount: "10.00" }))).code,
    ).toBe("INVALID_TRANSITION");
    expect(
      (await failure(run(op.disputeInvoice, { invoiceId: inv.id, reason: "again" }))).code,
    ).toBe("INVALID_TRANSITION");
    const resolved = await run(op.resolveDispute, {
      disputeId: opened.dispute.id,
      resolution: "hours confirmed",
    });
    expect(resolved.invoice.status).toBe("PARTIALLY_PAID");
    expect(resolved.dispute.status).toBe("RESOLVED");
    expect(
      (await failure(run(op.resolveDispute, { disputeId: opened.dispute.id, resolution: "x" })))
        .details,
    ).toMatchObject({
      from: "RESOLVED",
      to: "RESOLVED",
    });
  });

  it("a missing tax rate is a typed error and a FINANCE exception", async () => {
    const { contract: c, basics } = await billableContract(1);
    await t.sql`delete from tax_rate where jurisdiction = ${basics.jurisdiction}`;
    const error = await failure(
      run(op.generateInvoice, { contractId: c.id, periodEnd: "2026-01-31" }),
    );
    expect(error.code).toBe("VALIDATION_FAILED");
    const [ex] = await t.db
      .select()
      .from(syncException)
      .where(eq(syncException.id, error.details.exceptionId as string));
    expect(ex).toMatchObject({ owner: "FINANCE", code: "TAX_RATE_MISSING", entityId: c.id });
    expect(await t.db.select().from(invoice).where(eq(invoice.contractId, c.id))).toHaveLength(0);
  });
});

describe("concurrency", () => {
  it("20 parallel generateInvoice for one contract give exactly one invoice", async () => {
    const { contract: c } = await billableContract(5);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        run(op.generateInvoice, { contractId: c.id, periodEnd: "2026-01-31" }),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    expect(ok).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected")
        expect((r.reason as DomainError).details).toMatchObject({ reason: "NOTHING_TO_INVOICE" });
    }
    expect(await t.db.select().from(invoice).where(eq(invoice.contractId, c.id))).toHaveLength(1);
    const lines = await t.db
      .select({ n: sql<number>`count(*)::int` })
      .from(invoiceLine)
      .innerJoin(contract, eq(contract.id, c.id))
      .where(eq(invoiceLine.invoiceId, (ok[0] as PromiseFulfilledResult<{ id: string }>).value.id));
    expect(lines[0]!.n).toBe(5);
  });

  it("20 parallel recordPayment with one idempotency key record one payment", async () => {
    const { contract: c } = await billableContract(2);
    const inv = await run(op.generateInvoice, { contractId: c.id, periodEnd: "2026-01-31" });
    await run(op.issueInvoice, { invoiceId: inv.id });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        run(op.recordPayment, { invoiceId: inv.id, amount: "100.00" }, "pay-once"),
      ),
    );
    expect(new Set(results.map((r) => r.payment.id)).size).toBe(1);
    expect(await t.db.select().from(payment).where(eq(payment.invoiceId, inv.id))).toHaveLength(1);
    const [after] = await t.db.select().from(invoice).where(eq(invoice.id, inv.id));
    expect(after!.amountPaid).toBe("100.00");
    const mismatch = await failure(
      run(op.recordPayment, { invoiceId: inv.id, amount: "5.00" }, "pay-once"),
    );
    expect(mismatch.code).toBe("IDEMPOTENCY_MISMATCH");
  });

  it("20 parallel runBilling create each billing event once", async () => {
    const basics = await seedBasics(t.db);
    const oppId = await wonOpportunity(t.db, basics);
    const conv = await run(op.convertOpportunity, { opportunityId: oppId });
    await run(op.activateProject, { projectId: conv.project.id });
    const res = await newResource(t.db);
    const ids = await addTime(
      t.db,
      conv.project.id,
      res,
      Array.from({ length: 50 }, () => ({
        workDate: "2026-01-15",
        hours: "1.00",
        billRate: "10.00",
      })),
    );
    await run(op.approveTimeEntries, { ids });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        run(op.runBilling, { contractId: conv.contract.id, periodEnd: "2026-01-31" }),
      ),
    );
    const created = results.reduce(
      (n, r) => n + (r.status === "fulfilled" ? r.value.eventsCreated : 0),
      0,
    );
    expect(created).toBe(50);
    expect(
      await t.db.select().from(billingEvent).where(eq(billingEvent.contractId, conv.contract.id)),
    ).toHaveLength(50);
  });
});
