/**
 * GraphQL type → the value its resolvers receive (codegen `mappers`). Owned types map to drizzle
 * rows; types owned by other subgraphs are key stubs `{ id }`.
 */
import type {
  billingEvent,
  contract,
  customer,
  dispute,
  invoice,
  invoiceLine,
  payment,
  project,
} from "@pshub/db/schema";

export type InvoiceMapper = typeof invoice.$inferSelect;
export type InvoiceLineMapper = typeof invoiceLine.$inferSelect;
export type PaymentMapper = typeof payment.$inferSelect;
export type DisputeMapper = typeof dispute.$inferSelect;

import type { EntityRef } from "@pshub/subgraph-kit";

/** A key stub, or the customer row where an invoice provides its name and parent (@provides). */
export type CustomerMapper = EntityRef | typeof customer.$inferSelect;
/** A key stub, or the contract row where an invoice provides its number and billing model. */
export type ContractMapper = EntityRef | typeof contract.$inferSelect;
export type LegalEntityMapper = EntityRef;
/** A key stub, or the billing event row where an invoice line provides its project's name. */
export type BillingEventMapper = EntityRef | typeof billingEvent.$inferSelect;
/** The project row a billing event provides (with its name). */
export type ProjectMapper = typeof project.$inferSelect;
