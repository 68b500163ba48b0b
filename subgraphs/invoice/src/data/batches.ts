/**
 * Batch reads behind invoice's DataLoaders: each takes many keys and runs ONE statement, inside
 * the caller's legal-entity scope (`inScope`, the loaders' condition for the table: undefined =
 * every entity), so a reference from another subgraph never reads another entity's row.
 */
import type { Db } from "@pshub/db";
import { dispute, invoiceLine } from "@pshub/db/schema";
import { inList } from "@pshub/subgraph-kit";
import { and, eq, isNull, type SQL } from "drizzle-orm";

type InvoiceLineRow = typeof invoiceLine.$inferSelect;
type DisputeRow = typeof dispute.$inferSelect;

/** The live (not voided) invoice line of each billing event, or null; at most one exists. */
export async function liveLinesByBillingEvent(
  db: Db,
  billingEventIds: readonly string[],
  inScope: SQL | undefined,
): Promise<(InvoiceLineRow | null)[]> {
  const rows = await db
    .select()
    .from(invoiceLine)
    .where(
      and(
        inList(invoiceLine.billingEventId, [...new Set(billingEventIds)]),
        isNull(invoiceLine.voidedAt),
        inScope,
      ),
    );
  const byEvent = new Map(rows.map((row) => [row.billingEventId, row]));
  return billingEventIds.map((id) => byEvent.get(id.toLowerCase()) ?? null);
}

/** The OPEN dispute of each invoice, or null; at most one exists. */
export async function openDisputesByInvoice(
  db: Db,
  invoiceIds: readonly string[],
  inScope: SQL | undefined,
): Promise<(DisputeRow | null)[]> {
  const rows = await db
    .select()
    .from(dispute)
    .where(
      and(inList(dispute.invoiceId, [...new Set(invoiceIds)]), eq(dispute.status, "OPEN"), inScope),
    );
  const byInvoice = new Map(rows.map((row) => [row.invoiceId, row]));
  return invoiceIds.map((id) => byInvoice.get(id.toLowerCase()) ?? null);
}
