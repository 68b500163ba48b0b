/**
 * Invoices: generate (READY billing events → a DRAFT invoice, one line per event), issue (queues
 * the ERP posting), mark posted (the ERP accepted it), void (releases the events to READY), record
 * payments (partial; over-payment is refused), dispute and resolve.
 *
 * Totals are computed in SQL numeric: subtotal = Σ line amounts; tax = Σ per line of
 * round_half_even(line amount × rate) — the rate of the customer's tax jurisdiction (else the
 * legal entity's) valid at the period end; total = subtotal + tax (see ./money.ts).
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "../client.ts";
import { type DomainEventInput, emitDomainEvents } from "../domain-events.ts";
import { InvalidTransitionError, ValidationError } from "../errors.ts";
import {
  contract,
  customer,
  dispute,
  invoice,
  invoiceLine,
  legalEntity,
  outboundCommand,
  payment,
  taxRate,
} from "../schema.ts";
import {
  assertTransition,
  disputeMachine,
  type InvoiceStatus,
  invoiceMachine,
} from "./machines.ts";
import { isZero } from "./money.ts";
import {
  defineOperation,
  id,
  isoDate,
  type OperationContext,
  positiveDecimal,
  RemediableError,
} from "./operation.ts";
import { lockOne, transitionRows } from "./rows.ts";

export type InvoiceRow = typeof invoice.$inferSelect;
export type PaymentRow = typeof payment.$inferSelect;
export type DisputeRow = typeof dispute.$inferSelect;

function statusEvent(
  ctx: OperationContext,
  inv: InvoiceRow,
  from: InvoiceStatus,
  to: InvoiceStatus,
): DomainEventInput {
  return {
    type: "invoice.status_changed",
    entityType: "invoice",
    entityId: inv.id,
    payload: {
      from,
      to,
      number: inv.number,
      total: inv.total,
      amountPaid: inv.amountPaid,
      currency: inv.currency,
    },
    correlationId: inv.correlationId,
    causationId: ctx.requestId,
    actor: ctx.actor,
  };
}

/** Moves a locked invoice to `to` (checked), applying `set`; emits invoice.status_changed. */
async function moveInvoice(
  tx: Tx,
  ctx: OperationContext,
  inv: InvoiceRow,
  to: InvoiceStatus,
  set: Record<string, unknown> = {},
  extraEvents: DomainEventInput[] = [],
): Promise<InvoiceRow> {
  const [updated] = (await transitionRows(
    tx,
    invoice,
    invoiceMachine,
    [inv],
    to,
    set,
  )) as InvoiceRow[];
  await emitDomainEvents(tx, [...extraEvents, statusEvent(ctx, updated!, inv.status, to)]);
  return updated!;
}

// ---------------------------------------------------------------------------------------------
// generateInvoice
// ---------------------------------------------------------------------------------------------

/**
 * READY billing events of the contract up to the period end (period-less items: all of them)
 * become one DRAFT invoice. The contract row is locked first, so concurrent calls for one
 * contract serialise: the first takes the events, the others find none (VALIDATION_FAILED with
 * reason NOTHING_TO_INVOICE) — never two invoices for one event.
 */
export const generateInvoice = defineOperation({
  name: "generateInvoice",
  input: z.object({ contractId: id(), periodEnd: isoDate() }),
  async run(tx, ctx, input): Promise<InvoiceRow> {
    const c = await lockOne(tx, contract, "contract", input.contractId);
    const [cust] = await tx.select().from(customer).where(eq(customer.id, c.customerId));
    const [entity] = await tx.select().from(legalEntity).where(eq(legalEntity.id, c.legalEntityId));
    const jurisdiction = cust?.taxJurisdiction ?? entity?.taxJurisdiction ?? null;
    const [rate] = jurisdiction
      ? await tx
          .select({ rate: taxRate.rate })
          .from(taxRate)
          .where(
            and(
              eq(taxRate.jurisdiction, jurisdiction),
              sql`${taxRate.validFrom} <= ${input.periodEnd}::date`,
            ),
          )
          .orderBy(sql`${taxRate.validFrom} desc`)
          .limit(1)
      : [];
    if (!rate) {
      throw new RemediableError(
        `no tax rate for jurisdiction ${jurisdiction ?? "(none)"} valid on ${input.periodEnd} (customer ${c.customerId})`,
        {
          owner: "FINANCE",
          severity: "HIGH",
          code: "TAX_RATE_MISSING",
          entityType: "contract",
          entityId: c.id,
          message: `Contract ${c.number} cannot be invoiced: no tax rate for ${jurisdiction ?? "(no jurisdiction)"}`,
          remediation: jurisdiction
            ? `Add a tax_rate row for jurisdiction ${jurisdiction} valid from ${input.periodEnd} or earlier.`
            : `Set the tax jurisdiction on customer ${c.customerId} (Account.Tax_Jurisdiction__c) or on legal entity ${c.legalEntityId}.`,
          correlationId: c.correlationId,
        },
        { field: "taxJurisdiction", jurisdiction },
      );
    }
    const [inv] = await tx
      .insert(invoice)
      .values({
        customerId: c.customerId,
        contractId: c.id,
        legalEntityId: c.legalEntityId,
        currency: c.currency,
        periodEnd: input.periodEnd,
        taxRate: rate.rate,
        dueOn: sql`current_date + ${c.paymentTermsDays}::int`,
        correlationId: c.correlationId,
      })
      .returning();
    const [lines] = await tx.execute<{ n: number }>(sql`
      with taken as (
        update billing_event set status = 'INVOICED', version = version + 1, updated_at = now()
        where contract_id = ${c.id} and status = 'READY'
          and (period = '' or period <= to_char(${input.periodEnd}::date, 'YYYY-MM'))
        returning id, source_type, period, description, quantity, rate, amount, currency, created_at
      ),
      lines as (
        insert into invoice_line (invoice_id, billing_event_id, line_no, description, quantity, unit_price, amount, currency)
        select ${inv!.id}, id, row_number() over (order by period, source_type, created_at, id),
          description, quantity, rate, amount, currency
        from taken
        returning 1
      )
      select count(*)::int as n from lines`);
    if (!lines || Number(lines.n) === 0) {
      throw new ValidationError(
        `contract ${c.id} has no READY billing events up to ${input.periodEnd}: nothing to invoice`,
        { reason: "NOTHING_TO_INVOICE", contractId: c.id },
      );
    }
    const [totalled] = await tx.execute<{ id: string }>(sql`
      update invoice i set subtotal = x.subtotal, tax = x.tax, total = x.subtotal + x.tax
      from (
        select coalesce(sum(amount), 0) as subtotal,
          coalesce(sum(pshub_round_half_even(amount * ${rate.rate}::numeric, 2)), 0) as tax
        from invoice_line where invoice_id = ${inv!.id} and voided_at is null
      ) as x
      where i.id = ${inv!.id}
      returning i.id`);
    const [result] = await tx.select().from(invoice).where(eq(invoice.id, totalled!.id));
    await emitDomainEvents(tx, [
      {
        type: "invoice.created",
        entityType: "invoice",
        entityId: result!.id,
        payload: {
          number: result!.number,
          contractId: c.id,
          customerId: c.customerId,
          lineCount: Number(lines.n),
          subtotal: result!.subtotal,
          tax: result!.tax,
          total: result!.total,
          currency: result!.currency,
          status: "DRAFT",
        },
        correlationId: c.correlationId,
        causationId: ctx.requestId,
        actor: ctx.actor,
      },
    ]);
    return result!;
  },
  auditRef: (input, result) => ({
    entityType: result ? "invoice" : "contract",
    entityId: result?.id ?? input.contractId,
    correlationId: result?.correlationId,
  }),
});

// ---------------------------------------------------------------------------------------------
// issue, post, void
// ---------------------------------------------------------------------------------------------

/**
 * The next number of a legal entity's series (`<prefix><n>`). The counter row stays locked until
 * the calling transaction ends: concurrent issuers of one entity queue behind it, and a rollback
 * returns the number, so the series never has a gap. Call it last, after every check that may
 * refuse, to hold the lock briefly.
 */
export async function takeInvoiceNumber(tx: Tx, legalEntityId: string): Promise<string> {
  const [row] = await tx.execute<{ number: string }>(sql`
    with taken as (
      insert into invoice_number_series as s (legal_entity_id, last_number)
      values (${legalEntityId}, 1)
      on conflict (legal_entity_id) do update
        set last_number = s.last_number + 1, updated_at = now()
      returning s.legal_entity_id, s.last_number
    )
    select le.invoice_prefix || taken.last_number as number
    from taken join legal_entity le on le.id = taken.legal_entity_id`);
  return row!.number;
}

/**
 * DRAFT → ISSUED: numbered from the legal entity's series (in this transaction), dated, due after
 * the contract's payment terms, queued for the ERP.
 */
export const issueInvoice = defineOperation({
  name: "issueInvoice",
  input: z.object({ invoiceId: id(), issuedOn: isoDate().optional() }),
  async run(tx, ctx, input): Promise<InvoiceRow> {
    const inv = await lockOne(tx, invoice, "invoice", input.invoiceId);
    assertTransition(invoiceMachine, inv.id, inv.status, "ISSUED");
    const [c] = await tx.select().from(contract).where(eq(contract.id, inv.contractId));
    const issuedOn = input.issuedOn ?? new Date().toISOString().slice(0, 10);
    const number = await takeInvoiceNumber(tx, inv.legalEntityId);
    const updated = await moveInvoice(tx, ctx, inv, "ISSUED", {
      number,
      issuedOn,
      dueOn: sql`${issuedOn}::date + ${c!.paymentTermsDays}::int`,
    });
    await tx
      .insert(outboundCommand)
      .values({
        target: "ERP",
        kind: "invoice.post",
        idempotencyKey: `erp:invoice.post:${inv.id}`,
        entityType: "invoice",
        entityId: inv.id,
        payload: { invoiceId: inv.id, number },
        correlationId: inv.correlationId,
      })
      .onConflictDoNothing();
    return updated;
  },
  auditRef: (input, result) => ({
    entityType: "invoice",
    entityId: input.invoiceId,
    correlationId: result?.correlationId,
  }),
});

/** ISSUED → POSTED: the ERP accepted the invoice under its own number (outbound worker / sync). */
export const markInvoicePosted = defineOperation({
  name: "markInvoicePosted",
  input: z.object({ invoiceId: id(), erpNumber: z.string().min(1).max(100) }),
  async run(tx, ctx, input): Promise<InvoiceRow> {
    const inv = await lockOne(tx, invoice, "invoice", input.invoiceId);
    return moveInvoice(tx, ctx, inv, "POSTED", {
      erpNumber: input.erpNumber,
      postedAt: sql`now()`,
    });
  },
  auditRef: (input, result) => ({
    entityType: "invoice",
    entityId: input.invoiceId,
    correlationId: result?.correlationId,
  }),
});

/**
 * → VOID (only while nothing is paid): its lines are voided and its billing events released to
 * READY, so they can be invoiced again; an open dispute is resolved as voided.
 */
export const voidInvoice = defineOperation({
  name: "voidInvoice",
  input: z.object({ invoiceId: id(), reason: z.string().trim().min(1).max(2000) }),
  async run(tx, ctx, input): Promise<InvoiceRow> {
    const inv = await lockOne(tx, invoice, "invoice", input.invoiceId);
    assertTransition(invoiceMachine, inv.id, inv.status, "VOID");
    if (!isZero(inv.amountPaid)) {
      throw new ValidationError(
        `invoice ${inv.number} has payments of ${inv.amountPaid} ${inv.currency}: it cannot be voided`,
        { reason: "HAS_PAYMENTS", amountPaid: inv.amountPaid },
      );
    }
    const released = await tx.execute<{ id: string }>(sql`
      with voided as (
        update invoice_line set voided_at = now(), version = version + 1, updated_at = now()
        where invoice_id = ${inv.id} and voided_at is null
        returning billing_event_id
      )
      update billing_event b set status = 'READY', version = b.version + 1, updated_at = now()
      from voided where b.id = voided.billing_event_id and b.status = 'INVOICED'
      returning b.id`);
    await tx
      .update(dispute)
      .set({
        status: "RESOLVED",
        resolution: `invoice voided: ${input.reason}`,
        resolvedAt: sql`now()`,
        resolvedBy: ctx.actor,
        version: sql`${dispute.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(dispute.invoiceId, inv.id), eq(dispute.status, "OPEN")));
    return moveInvoice(
      tx,
      ctx,
      inv,
      "VOID",
      {},
      released.map((b) => ({
        type: "billing_event.status_changed",
        entityType: "billing_event",
        entityId: b.id,
        payload: { from: "INVOICED", to: "READY", invoiceId: inv.id },
        correlationId: inv.correlationId,
        causationId: ctx.requestId,
        actor: ctx.actor,
      })),
    );
  },
  auditRef: (input, result) => ({
    entityType: "invoice",
    entityId: input.invoiceId,
    correlationId: result?.correlationId,
  }),
});

// ---------------------------------------------------------------------------------------------
// payments
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// disputes
// ---------------------------------------------------------------------------------------------

export interface DisputeResult {
  dispute: DisputeRow;
  invoice: InvoiceRow;
}

/** ISSUED / POSTED / PARTIALLY_PAID → DISPUTED, opening a dispute (one open per invoice). */
export const disputeInvoice = defineOperation({
  name: "disputeInvoice",
  input: z.object({ invoiceId: id(), reason: z.string().trim().min(1).max(2000) }),
  async run(tx, ctx, input): Promise<DisputeResult> {
    const inv = await lockOne(tx, invoice, "invoice", input.invoiceId);
    assertTransition(invoiceMachine, inv.id, inv.status, "DISPUTED");
    const [opened] = await tx
      .insert(dispute)
      .values({ invoiceId: inv.id, reason: input.reason, openedBy: ctx.actor })
      .returning();
    const updated = await moveInvoice(tx, ctx, inv, "DISPUTED", {}, [
      {
        type: "dispute.opened",
        entityType: "dispute",
        entityId: opened!.id,
        payload: { invoiceId: inv.id, reason: input.reason },
        correlationId: inv.correlationId,
        causationId: ctx.requestId,
        actor: ctx.actor,
      },
    ]);
    return { dispute: opened!, invoice: updated };
  },
  auditRef: (input, result) => ({
    entityType: "invoice",
    entityId: input.invoiceId,
    correlationId: result?.invoice.correlationId,
  }),
});

/**
 * OPEN → RESOLVED; the invoice returns to where it was: PARTIALLY_PAID if anything is paid, else
 * POSTED if the ERP posted it, else ISSUED. (To cancel it instead, void it afterwards.)
 */
export const resolveDispute = defineOperation({
  name: "resolveDispute",
  input: z.object({ disputeId: id(), resolution: z.string().trim().min(1).max(2000) }),
  async run(tx, ctx, input): Promise<DisputeResult> {
    const d = await lockOne(tx, dispute, "dispute", input.disputeId);
    assertTransition(disputeMachine, d.id, d.status, "RESOLVED");
    const inv = await lockOne(tx, invoice, "invoice", d.invoiceId);
    const to: InvoiceStatus = !isZero(inv.amountPaid)
      ? "PARTIALLY_PAID"
      : inv.postedAt
        ? "POSTED"
        : "ISSUED";
    const [resolved] = await transitionRows(tx, dispute, disputeMachine, [d], "RESOLVED", {
      resolution: input.resolution,
      resolvedAt: sql`now()`,
      resolvedBy: ctx.actor,
    });
    const updated = await moveInvoice(tx, ctx, inv, to, {}, [
      {
        type: "dispute.resolved",
        entityType: "dispute",
        entityId: d.id,
        payload: { invoiceId: inv.id, resolution: input.resolution, from: "OPEN", to: "RESOLVED" },
        correlationId: inv.correlationId,
        causationId: ctx.requestId,
        actor: ctx.actor,
      },
    ]);
    return { dispute: resolved as DisputeRow, invoice: updated };
  },
  auditRef: (input, result) => ({
    entityType: "dispute",
    entityId: input.disputeId,
    correlationId: result?.invoice.correlationId,
  }),
});

/** Live lines of an invoice, in order (for callers that return the invoice with its lines). */
export async function invoiceLines(tx: Tx, invoiceId: string) {
  return tx
    .select()
    .from(invoiceLine)
    .where(and(eq(invoiceLine.invoiceId, invoiceId), isNull(invoiceLine.voidedAt)))
    .orderBy(invoiceLine.lineNo);
}
