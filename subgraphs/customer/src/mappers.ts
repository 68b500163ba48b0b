/**
 * GraphQL type → the drizzle row a resolver returns for it (read by codegen.ts: every
 * `export type XMapper` maps GraphQL type X).
 */
import type {
  contact,
  contract,
  customer,
  legalEntity,
  opportunity,
  taxRate,
} from "@pshub/db/schema";

export type CustomerMapper = typeof customer.$inferSelect;
export type ContactMapper = typeof contact.$inferSelect;
export type OpportunityMapper = typeof opportunity.$inferSelect;
export type ContractMapper = typeof contract.$inferSelect;
export type LegalEntityMapper = typeof legalEntity.$inferSelect;
export type TaxRateMapper = typeof taxRate.$inferSelect;
/** Money is built from an amount column and a currency column. */
export type MoneyMapper = { amount: string; currency: string };
