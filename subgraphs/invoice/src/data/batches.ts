/**
 * Batch reads behind invoice's DataLoaders: each takes many keys and runs ONE statement, inside
 * the caller's legal-entity scope (undefined = every entity), so a reference from another subgraph
 * never reads another entity's row. Each statement is built once per process and scope and run
 * prepared, the keys its one parameter (the kit's ./prepared.ts).
 */
import { type Db, inLegalEntityScope, type LegalEntityScope, pgArray } from "@pshub/db";
import { dispute, invoiceLine } from "@pshub/db/schema";
import { inListPlaceholder, preparedStatement, scopeKey } from "@pshub/subgraph-kit";
import { and, eq, isNull } from "drizzle-orm";

type InvoiceLineRow = typeof invoiceLine.$inferSelect;
type DisputeRow = typeof dispute.$inferSelect;

/** The live (not voided) invoice line of each billing event, or null; at most one exists. */
export async function liveLinesByBillingEvent(
  db: Db,
  billingEventIds: readonly string[],
  scope: LegalEntityScope,
): Promise<(InvoiceLineRow | null)[]> {
  const query = preparedStatement(db, invoiceLine, `liveByBillingEvent|${scopeKey(scope)}`, () =>
    db
      .select()
      .from(invoiceLine)
      .where(
        and(
          inListPlaceholder(invoiceLine.billingEventId, "ids"),
          isNull(invoiceLine.voidedAt),
          inLegalEntityScope(invoiceLine, scope),
        ),
      )
      .prepare("liveLinesByBillingEvent"),
  );
  const rows = await query.execute({ ids: pgArray([...new Set(billingEventIds)]) });
  const byEvent = new Map(rows.map((row) => [row.billingEventId, row]));
  return billingEventIds.map((id) => byEvent.get(id.toLowerCase()) ?? null);
}

/** The OPEN dispute of each invoice, or null; at most one exists. */
export async function openDisputesByInvoice(
  db: Db,
  invoiceIds: readonly string[],
  scope: LegalEntityScope,
): Promise<(DisputeRow | null)[]> {
  const query = preparedStatement(db, dispute, `openByInvoice|${scopeKey(scope)}`, () =>
    db
      .select()
      .from(dispute)
      .where(
        and(
          inListPlaceholder(dispute.invoiceId, "ids"),
          eq(dispute.status, "OPEN"),
          inLegalEntityScope(dispute, scope),
        ),
      )
      .prepare("openDisputesByInvoice"),
  );
  const rows = await query.execute({ ids: pgArray([...new Set(invoiceIds)]) });
  const byInvoice = new Map(rows.map((row) => [row.invoiceId, row]));
  return invoiceIds.map((id) => byInvoice.get(id.toLowerCase()) ?? null);
}
