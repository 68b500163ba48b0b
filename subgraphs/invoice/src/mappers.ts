/**
 * GraphQL type → the value its resolvers receive (codegen `mappers`). Owned types map to drizzle
 * rows; types owned by other subgraphs are key stubs `{ id }`.
 */
import type { dispute, invoice, invoiceLine, payment } from "@pshub/db/schema";

export type InvoiceMapper = typeof invoice.$inferSelect;
export type InvoiceLineMapper = typeof invoiceLine.$inferSelect;
export type PaymentMapper = typeof payment.$inferSelect;
export type DisputeMapper = typeof dispute.$inferSelect;

import type { EntityRef } from "@pshub/subgraph-kit";

export type CustomerMapper = EntityRef;
export type ContractMapper = EntityRef;
export type LegalEntityMapper = EntityRef;
export type BillingEventMapper = EntityRef;
