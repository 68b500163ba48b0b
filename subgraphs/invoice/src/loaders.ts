/**
 * Invoice's per-request DataLoaders: the kit's generic ones (rows by id, nested connections) plus
 * invoice-specific batches. Every batch is ONE SQL statement; ids that are not uuids resolve to
 * null without reaching the database.
 */
import { type Db, invoicesOverdue, type LegalEntityScope } from "@pshub/db";
import { dispute, invoice, invoiceLine, payment } from "@pshub/db/schema";
import { RequestLoaders, uuidLoader } from "@pshub/subgraph-kit";
import { liveLinesByBillingEvent, openDisputesByInvoice } from "./data/batches.ts";

export class InvoiceLoaders extends RequestLoaders {
  invoice() {
    return this.byId(invoice);
  }

  /**
   * Seeds the by-id cache with invoices a list already read, so `line.invoice` and
   * `payment.invoice` under that list cost no statement.
   */
  primeInvoices<C extends { nodes: (typeof invoice.$inferSelect)[] }>(connection: C): C {
    const loader = this.invoice();
    for (const row of connection.nodes) loader.prime(row.id, row);
    return connection;
  }

  /** An invoice a foreign key points at: its absence is a broken invariant, not a client error. */
  async referencedInvoice(id: string) {
    const row = await this.invoice().load(id);
    if (!row) throw new Error(`invoice ${id} is referenced but does not exist`);
    return row;
  }

  /** Is the invoice overdue? (the database's rule and clock) */
  overdue() {
    return this.memo("overdue", () =>
      uuidLoader<boolean | null>((ids) => invoicesOverdue(this.db, ids), null),
    );
  }

  invoiceLine() {
    return this.byId(invoiceLine);
  }

  payment() {
    return this.byId(payment);
  }

  dispute() {
    return this.byId(dispute);
  }

  /** The live invoice line of a billing event. */
  liveLineByBillingEvent() {
    return this.memo("liveLineByBillingEvent", () =>
      uuidLoader((ids) => liveLinesByBillingEvent(this.db, ids, this.scope), null),
    );
  }

  /** The OPEN dispute of an invoice. */
  openDisputeByInvoice() {
    return this.memo("openDisputeByInvoice", () =>
      uuidLoader((ids) => openDisputesByInvoice(this.db, ids, this.scope), null),
    );
  }
}

export function createInvoiceLoaders(
  db: Db,
  warn: (message: string) => void,
  scope: LegalEntityScope,
): InvoiceLoaders {
  return new InvoiceLoaders(db, warn, scope);
}
