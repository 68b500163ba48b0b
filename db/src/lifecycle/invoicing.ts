/**
 * Invoices: generate (READY billing events → a DRAFT invoice, one line per event), issue (queues
 * the ERP posting), mark posted (the ERP accepted it), void (releases the events to READY).
 * Payments are in ./payments.ts, disputes in ./disputes.ts.
 *
 * Totals are computed in SQL numeric: subtotal = Σ line amounts; tax = Σ per line of
 * round_half_even(line amount × rate) — the rate of the customer's tax jurisdiction (else the
 * legal entity's) valid at the period end; total = subtotal + tax (see ./money.ts).
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "../client.ts";
import { emitDomainEvents } from "../domain-events.ts";
import { ValidationError } from "../errors.ts";
import { enqueueCommands } from "../outbound.ts";
import {
  contract,
  customer,
  dispute,
  invoice,
  invoiceLine,
  legalEntity,
  payment,
  taxRate,
} from "../schema.ts";
import { moveInvoice } from "./invoice-status.ts";
import { assertTransition, invoiceMachine } from "./machines.ts";
import { isZero } from "./money.ts";
import { defineOperation, id, isoDate, RemediableError } from "./operation.ts";
import { lockOne } from "./rows.ts";

export type InvoiceRow = typeof invoice.$inferSelect;
export type PaymentRow = typeof payment.$inferSelect;
export type DisputeRow = typeof dispute.$inferSelect;

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
    await enqueueCommands(tx, [
      {
        target: "ERP",
        kind: "invoice.post",
        idempotencyKey: `erp:invoice.post:${inv.id}`,
        entityType: "invoice",
        entityId: inv.id,
        payload: { invoiceId: inv.id, number },
        correlationId: inv.correlationId,
      },
    ]);
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

/** Live lines of an invoice, in order (for callers that return the invoice with its lines). */
export async function invoiceLines(tx: Tx, invoiceId: string) {
  return tx
    .select()
    .from(invoiceLine)
    .where(and(eq(invoiceLine.invoiceId, invoiceId), isNull(invoiceLine.voidedAt)))
    .orderBy(invoiceLine.lineNo);
}
