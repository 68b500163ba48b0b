/** Disputes: an issued invoice disputed (one open dispute per invoice), then resolved. */
import { sql } from "drizzle-orm";
import { z } from "zod";
import { dispute, invoice } from "../schema.ts";
import { moveInvoice } from "./invoice-status.ts";
import { type DisputeRow, type InvoiceRow } from "./invoicing.ts";
import {
  assertTransition,
  disputeMachine,
  type InvoiceStatus,
  invoiceMachine,
} from "./machines.ts";
import { isZero } from "./money.ts";
import { defineOperation, id } from "./operation.ts";
import { lockOne, transitionRows } from "./rows.ts";

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
