/**
 * GraphQL type → the value its resolvers receive (codegen `mappers`). Owned types map to drizzle
 * rows; types owned by other subgraphs are key stubs `{ id }`.
 */
import type { billingEvent, contract, feeScheduleItem, syncException } from "@pshub/db/schema";
import type { UnbilledRow } from "./data/unbilled.ts";

export type BillingEventMapper = typeof billingEvent.$inferSelect;
export type SyncExceptionMapper = typeof syncException.$inferSelect;
/** A billing rule is derived from its contract row. */
export type BillingRuleMapper = typeof contract.$inferSelect;
export type FeeScheduleItemMapper = typeof feeScheduleItem.$inferSelect;
export type UnbilledTotalMapper = UnbilledRow;

/** A reference to an entity another subgraph owns. */
export interface EntityRef {
  id: string;
}
export type CustomerMapper = EntityRef;
export type ContractMapper = EntityRef;
export type ProjectMapper = EntityRef;
export type TimeEntryMapper = EntityRef;
export type ExpenseMapper = EntityRef;
export type MilestoneMapper = EntityRef;
