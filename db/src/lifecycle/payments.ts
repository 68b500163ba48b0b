/** Payments against an invoice: partial until the total is reached, then PAID; over-payment refused. */
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { InvalidTransitionError, ValidationError } from "../errors.ts";
import { invoice, payment } from "../schema.ts";
import { moveInvoice } from "./invoice-status.ts";
import { type InvoiceRow, type PaymentRow } from "./invoicing.ts";
import { assertTransition, type InvoiceStatus, invoiceMachine } from "./machines.ts";
import { defineOperation, id, isoDate, positiveDecimal } from "./operation.ts";
import { lockOne } from "./rows.ts";

export interface PaymentResult {
  payment: PaymentRow;
  invoice: InvoiceRow;
}

/**
 * How far ahead of the database's current_date a payment may be dated: a bank's value date or a
 * time zone may put it a day or two ahead; beyond a week it is a typing mistake (9999-12-31).
 */
export const PAYMENT_DAYS_AHEAD = 7;

/** Invoice states that take no payment, and how the refusal says so (INVALID_TRANSITION). */
const PAYMENT_REFUSED: Partial<Record<InvoiceStatus, { reason: string; message: string }>> = {
  DRAFT: { reason: "NOT_ISSUED", message: "is a DRAFT: issue it before recording a payment" },
  PAID: { reason: "ALREADY_PAID", message: "is already paid" },
  VOID: { reason: "VOID", message: "is void: it takes no payment" },
  // DISPUTED → PARTIALLY_PAID exists for resolveDispute; a payment waits for the resolution.
  DISPUTED: {
    reason: "DISPUTED",
    message: "is disputed: resolve the dispute before recording a payment",
  },
};

/**
 * Records a payment: PARTIALLY_PAID until the total is reached, then PAID. Over-payment is refused
 * (VALIDATION_FAILED, reason OVERPAYMENT, with the outstanding amount); so is a payment dated
 * before the invoice's issue date (PAYMENT_BEFORE_ISSUE) or more than {@link PAYMENT_DAYS_AHEAD}
 * days after the database's current_date (PAYMENT_DATE_IN_FUTURE) — unless it is the ERP's own
 * record (erpId), whose date wins as the ERP owns payments; an invoice that is a draft,
 * paid, void or disputed takes none (INVALID_TRANSITION with a reason). A payment whose ERP id was
 * recorded before is returned as it is (read back twice, recorded once).
 */
export const recordPayment = defineOperation({
  name: "recordPayment",
  input: z.object({
    invoiceId: id(),
    amount: positiveDecimal(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .optional(),
    receivedOn: isoDate().optional(),
    reference: z.string().max(200).optional(),
    erpId: z.string().min(1).max(100).optional(),
  }),
  async run(tx, ctx, input): Promise<PaymentResult> {
    const inv = await lockOne(tx, invoice, "invoice", input.invoiceId);
    if (input.erpId) {
      const [existing] = await tx.select().from(payment).where(eq(payment.erpId, input.erpId));
      if (existing) {
        if (existing.invoiceId !== inv.id || existing.amount !== normalise(input.amount)) {
          throw new ValidationError(`ERP payment ${input.erpId} was recorded with other details`, {
            reason: "ERP_ID_REUSED",
            field: "erpId",
          });
        }
        return { payment: existing, invoice: inv };
      }
    }
    if (input.currency && input.currency !== inv.currency) {
      throw new ValidationError(
        `payment currency ${input.currency} differs from invoice ${inv.number}'s ${inv.currency}`,
        { field: "currency" },
      );
    }
    const receivedOn = input.receivedOn ?? null;
    const [check] = await tx.execute<{
      outstanding: string;
      after: string;
      paid_after: string;
      over: boolean;
      full: boolean;
      received_on: string;
      latest: string;
      before_issue: boolean;
      too_late: boolean;
    }>(sql`
      select (total - amount_paid)::text as outstanding,
        (total - amount_paid - ${input.amount}::numeric)::text as after,
        (amount_paid + ${input.amount}::numeric)::numeric(18,2)::text as paid_after,
        amount_paid + ${input.amount}::numeric > total as over,
        amount_paid + ${input.amount}::numeric = total as full,
        coalesce(${receivedOn}::date, current_date)::text as received_on,
        (current_date + ${PAYMENT_DAYS_AHEAD}::int)::text as latest,
        coalesce(${receivedOn}::date, current_date) < issued_on as before_issue,
        coalesce(${receivedOn}::date, current_date) > current_date + ${PAYMENT_DAYS_AHEAD}::int as too_late
      from invoice where id = ${inv.id}`);
    const to: InvoiceStatus = check!.full ? "PAID" : "PARTIALLY_PAID";
    const refused = PAYMENT_REFUSED[inv.status];
    if (refused) {
      throw new InvalidTransitionError("invoice", inv.id, inv.status, to, {
        message: `Invoice ${inv.number ?? inv.id} ${refused.message}`,
        details: { reason: refused.reason },
      });
    }
    assertTransition(invoiceMachine, inv.id, inv.status, to);
    // A payment read back from the ERP (erpId) keeps the ERP's date: the ERP owns payments.
    const datedByHand = !input.erpId;
    if (datedByHand && check!.before_issue) {
      throw new ValidationError(
        `a payment received on ${check!.received_on} is before invoice ${inv.number}'s issue date ${inv.issuedOn}`,
        { reason: "PAYMENT_BEFORE_ISSUE", field: "receivedOn", issuedOn: inv.issuedOn },
      );
    }
    if (datedByHand && check!.too_late) {
      throw new ValidationError(
        `a payment cannot be dated ${check!.received_on}: at most ${PAYMENT_DAYS_AHEAD} days after today (${check!.latest} at the latest)`,
        { reason: "PAYMENT_DATE_IN_FUTURE", field: "receivedOn", latest: check!.latest },
      );
    }
    if (check!.over) {
      throw new ValidationError(
        `payment of ${input.amount} ${inv.currency} exceeds the ${check!.outstanding} ${inv.currency} outstanding on invoice ${inv.number}`,
        {
          reason: "OVERPAYMENT",
          field: "amount",
          outstanding: check!.outstanding,
          amount: input.amount,
        },
      );
    }
    const [paid] = await tx
      .insert(payment)
      .values({
        invoiceId: inv.id,
        amount: input.amount,
        currency: inv.currency,
        receivedOn: check!.received_on,
        reference: input.reference ?? null,
        erpId: input.erpId ?? null,
        correlationId: inv.correlationId,
      })
      .returning();
    const updated = await moveInvoice(
      tx,
      ctx,
      inv,
      to,
      { amountPaid: sql`${invoice.amountPaid} + ${input.amount}::numeric` },
      [
        {
          type: "payment.recorded",
          entityType: "payment",
          entityId: paid!.id,
          payload: {
            invoiceId: inv.id,
            amount: paid!.amount,
            currency: paid!.currency,
            amountPaid: check!.paid_after,
            outstanding: check!.after,
          },
          correlationId: inv.correlationId,
          causationId: ctx.requestId,
          actor: ctx.actor,
        },
      ],
    );
    return { payment: paid!, invoice: updated };
  },
  auditRef: (input, result) => ({
    entityType: "invoice",
    entityId: input.invoiceId,
    correlationId: result?.invoice.correlationId,
  }),
});

/** "12.5" → "12.50", as numeric(18,2) prints it. */
function normalise(amount: string): string {
  const [whole, frac = ""] = amount.split(".");
  return `${BigInt(whole!)}.${frac.padEnd(2, "0")}`;
}
