/**
 * recordPayment's refusals say what happened (issue 8, item 19): a paid invoice "is already
 * paid", not "cannot go from PAID to PARTIALLY_PAID"; a payment dated before its invoice was
 * issued, or more than PAYMENT_DAYS_AHEAD days after the database's current_date, is refused.
 * Each refusal changes nothing and is audited.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DomainError } from "../errors.ts";
import { auditLog, invoice, payment } from "../schema.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { addTime, newResource, seedBasics, wonOpportunity } from "../testing/lifecycle.ts";
import { execute, type OperationContext, operations as op, PAYMENT_DAYS_AHEAD } from "./index.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const ctx: OperationContext = { actor: "finance@firm.test", requestId: null };
const run = <R>(operation: { run: (...a: never[]) => Promise<R> }, input: unknown) =>
  execute(t.db, operation as never, ctx, input) as Promise<R>;

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    return error as DomainError;
  }
  throw new Error("expected the operation to fail");
}

/** An invoice of 110.00 (one hour at 100.00, 10 % tax), issued on `issuedOn` (null: a DRAFT). */
async function issuedInvoice(issuedOn: string | null) {
  const basics = await seedBasics(t.db, { taxRate: "0.1000" });
  const converted = await run<{ contract: { id: string }; project: { id: string } }>(
    op.convertOpportunity,
    { opportunityId: await wonOpportunity(t.db, basics) },
  );
  await run(op.activateProject, { projectId: converted.project.id });
  const ids = await addTime(t.db, converted.project.id, await newResource(t.db), [
    { workDate: "2026-01-05", hours: "1.00", billRate: "100.00" },
  ]);
  await run(op.approveTimeEntries, { ids });
  await run(op.runBilling, { contractId: converted.contract.id, periodEnd: "2026-01-31" });
  const draft = await run<typeof invoice.$inferSelect>(op.generateInvoice, {
    contractId: converted.contract.id,
    periodEnd: "2026-01-31",
  });
  if (issuedOn === null) return draft;
  return run<typeof invoice.$inferSelect>(op.issueInvoice, { invoiceId: draft.id, issuedOn });
}

async function state(invoiceId: string) {
  const [row] = await t.db.select().from(invoice).where(eq(invoice.id, invoiceId));
  const payments = await t.db.select().from(payment).where(eq(payment.invoiceId, invoiceId));
  return { status: row!.status, amountPaid: row!.amountPaid, version: row!.version, payments };
}

describe("recordPayment refusals", () => {
  it('a payment on a PAID invoice is refused as "already paid", nothing changed, audited', async () => {
    const inv = await issuedInvoice("2026-02-01");
    expect(inv.total).toBe("110.00");
    const paid = await run<{ invoice: { status: string } }>(op.recordPayment, {
      invoiceId: inv.id,
      amount: "110.00",
    });
    expect(paid.invoice.status).toBe("PAID");
    const before = await state(inv.id);
    for (const amount of ["110.00", "1.00"]) {
      const error = await failure(run(op.recordPayment, { invoiceId: inv.id, amount }));
      expect(error.code).toBe("INVALID_TRANSITION");
      expect(error.message).toBe(`Invoice ${inv.number} is already paid`);
      expect(error.message).not.toMatch(/PARTIALLY_PAID/);
      expect(error.details).toMatchObject({
        entityType: "Invoice",
        id: inv.id,
        from: "PAID",
        reason: "ALREADY_PAID",
      });
    }
    expect(await state(inv.id)).toEqual(before);
    const audits = await t.db
      .select({ outcome: auditLog.outcome })
      .from(auditLog)
      .where(and(eq(auditLog.operation, "recordPayment"), eq(auditLog.entityId, inv.id)));
    expect(audits.map((a) => a.outcome).sort()).toEqual([
      "INVALID_TRANSITION",
      "INVALID_TRANSITION",
      "ok",
    ]);
  });

  it("a payment dated before the invoice was issued, or far in the future, is refused", async () => {
    const inv = await issuedInvoice("2026-02-01");
    const [{ latest, tooLate }] = (await t.sql`
      select (current_date + ${PAYMENT_DAYS_AHEAD}::int)::text as latest,
        (current_date + ${PAYMENT_DAYS_AHEAD + 1}::int)::text as "tooLate"`) as unknown as [
      { latest: string; tooLate: string },
    ];
    const before = await state(inv.id);
    const refusals: [string, string][] = [
      ["1900-01-01", "PAYMENT_BEFORE_ISSUE"],
      ["2026-01-31", "PAYMENT_BEFORE_ISSUE"],
      [tooLate, "PAYMENT_DATE_IN_FUTURE"],
      ["9999-12-31", "PAYMENT_DATE_IN_FUTURE"],
    ];
    for (const [receivedOn, reason] of refusals) {
      const error = await failure(
        run(op.recordPayment, { invoiceId: inv.id, amount: "10.00", receivedOn }),
      );
      expect([receivedOn, error.code, error.details.reason, error.details.field]).toEqual([
        receivedOn,
        "VALIDATION_FAILED",
        reason,
        "receivedOn",
      ]);
    }
    const early = await failure(
      run(op.recordPayment, { invoiceId: inv.id, amount: "10.00", receivedOn: "2026-01-31" }),
    );
    expect(early.message).toBe(
      `a payment received on 2026-01-31 is before invoice ${inv.number}'s issue date 2026-02-01`,
    );
    const late = await failure(
      run(op.recordPayment, { invoiceId: inv.id, amount: "10.00", receivedOn: "9999-12-31" }),
    );
    expect(late.message).toBe(
      `a payment cannot be dated 9999-12-31: at most ${PAYMENT_DAYS_AHEAD} days after today (${latest} at the latest)`,
    );
    expect(await state(inv.id)).toEqual(before);

    // The bounds themselves are accepted: the issue date, and the last day allowed ahead.
    await run(op.recordPayment, { invoiceId: inv.id, amount: "10.00", receivedOn: "2026-02-01" });
    await run(op.recordPayment, { invoiceId: inv.id, amount: "10.00", receivedOn: latest });
    // The ERP's own record of a payment (erpId) keeps the ERP's date: the ERP owns payments.
    await run(op.recordPayment, {
      invoiceId: inv.id,
      amount: "10.00",
      receivedOn: "2026-01-31",
      erpId: "ERP-PAY-1",
    });
    // No date: the database's current_date.
    await run(op.recordPayment, { invoiceId: inv.id, amount: "10.00" });
    const [{ today }] = (await t.sql`select current_date::text as today`) as unknown as [
      { today: string },
    ];
    const dates = (await state(inv.id)).payments.map((p) => p.receivedOn).sort();
    expect(dates).toEqual(["2026-01-31", "2026-02-01", today, latest].sort());
  });

  it("a draft, a void and a disputed invoice each say why they take no payment", async () => {
    const disputed = await issuedInvoice("2026-02-01");
    await run(op.disputeInvoice, { invoiceId: disputed.id, reason: "rate" });
    const voided = await issuedInvoice("2026-02-01");
    await run(op.voidInvoice, { invoiceId: voided.id, reason: "wrong customer" });
    const draft = await issuedInvoice(null);
    const cases: [string, string, RegExp][] = [
      [draft.id, "NOT_ISSUED", /is a DRAFT: issue it before recording a payment$/],
      [disputed.id, "DISPUTED", /is disputed: resolve the dispute before recording a payment$/],
      [voided.id, "VOID", /is void: it takes no payment$/],
    ];
    for (const [invoiceId, reason, message] of cases) {
      const error = await failure(run(op.recordPayment, { invoiceId, amount: "1.00" }));
      expect(error.code).toBe("INVALID_TRANSITION");
      expect(error.details.reason).toBe(reason);
      expect(error.message).toMatch(message);
    }
  });
});
