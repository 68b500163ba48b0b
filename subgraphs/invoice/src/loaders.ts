/**
 * Invoice's per-request DataLoaders: the kit's generic ones (rows by id, nested connections) plus
 * invoice-specific batches. Every batch is ONE SQL statement; ids that are not uuids resolve to
 * null without reaching the database.
 */
import { type Db, invoicesOverdue } from "@pshub/db";
import { dispute, invoice, invoiceLine, payment } from "@pshub/db/schema";
import { isUuid, RequestLoaders } from "@pshub/subgraph-kit";
import DataLoader from "dataloader";
import { liveLinesByBillingEvent, openDisputesByInvoice } from "./data/batches.ts";

/** A loader over a batch function, answering null for keys that are not uuids. */
function uuidLoader<V>(
  batch: (ids: string[]) => Promise<(V | null)[]>,
): DataLoader<string, V | null> {
  return new DataLoader<string, V | null>(async (keys) => {
    const valid = keys.filter(isUuid);
    const values = valid.length ? await batch(valid) : [];
    const byKey = new Map(valid.map((key, i) => [key, values[i] ?? null]));
    return keys.map((key) => byKey.get(key) ?? null);
  });
}

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
    return this.memo("overdue", () => uuidLoader<boolean>((ids) => invoicesOverdue(this.db, ids)));
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
      uuidLoader((ids) => liveLinesByBillingEvent(this.db, ids)),
    );
  }

  /** The OPEN dispute of an invoice. */
  openDisputeByInvoice() {
    return this.memo("openDisputeByInvoice", () =>
      uuidLoader((ids) => openDisputesByInvoice(this.db, ids)),
    );
  }
}

export function createInvoiceLoaders(db: Db, warn: (message: string) => void): InvoiceLoaders {
  return new InvoiceLoaders(db, warn);
}
