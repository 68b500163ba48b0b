/** An invoice's status change with its invoice.status_changed event (used by invoicing, payments, disputes; not exported from the package). */
import type { Tx } from "../client.ts";
import { type DomainEventInput, emitDomainEvents } from "../domain-events.ts";
import { enqueueCommands, invoiceStatusCommands } from "../outbound.ts";
import { invoice } from "../schema.ts";
import type { InvoiceRow } from "./invoicing.ts";
import { type InvoiceStatus, invoiceMachine } from "./machines.ts";
import type { OperationContext } from "./operation.ts";
import { transitionRows } from "./rows.ts";

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

/**
 * Moves a locked invoice to `to` (checked), applying `set`; emits invoice.status_changed and
 * queues the change's propagation to Salesforce and the PSA.
 */
export async function moveInvoice(
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
  // Salesforce and the PSA hear of it (queued in this transaction; db/src/outbound.ts).
  await enqueueCommands(tx, invoiceStatusCommands(updated!));
  return updated!;
}
