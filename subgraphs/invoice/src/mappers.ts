/**
 * GraphQL type → the value its resolvers receive (codegen `mappers`). Owned types map to drizzle
 * rows; types owned by other subgraphs are key stubs `{ id }`.
 */
import type { dispute, invoice, invoiceLine, payment } from "@pshub/db/schema";

export type InvoiceMapper = typeof invoice.$inferSelect;
export type InvoiceLineMapper = typeof invoiceLine.$inferSelect;
export type PaymentMapper = typeof payment.$inferSelect;
export type DisputeMapper = typeof dispute.$inferSelect;

/** A reference to an entity another subgraph owns. */
export interface EntityRef {
  id: string;
}
export type CustomerMapper = EntityRef;
export type ContractMapper = EntityRef;
export type LegalEntityMapper = EntityRef;
export type BillingEventMapper = EntityRef;
