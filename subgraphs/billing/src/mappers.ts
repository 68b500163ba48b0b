/**
 * GraphQL type → the value its resolvers receive (codegen `mappers`). Owned types map to drizzle
 * rows; types owned by other subgraphs are key stubs `{ id }`.
 */

import type { UnbilledRow } from "@pshub/db";
import type {
  billingEvent,
  billingRun,
  billingSchedule,
  contract,
  feeScheduleItem,
} from "@pshub/db/schema";
import type { EntityRef } from "@pshub/subgraph-kit";

export type BillingEventMapper = typeof billingEvent.$inferSelect;
/** A billing rule is derived from its contract row. */
export type BillingRuleMapper = typeof contract.$inferSelect;
export type BillingScheduleMapper = typeof billingSchedule.$inferSelect;
export type BillingRunMapper = typeof billingRun.$inferSelect;
export type InvoiceMapper = EntityRef;
export type FeeScheduleItemMapper = typeof feeScheduleItem.$inferSelect;
export type UnbilledTotalMapper = UnbilledRow;
export type CustomerMapper = EntityRef;
export type ContractMapper = EntityRef;
/** A key stub, or the project row where BillingEvent.project provides the name. */
export type ProjectMapper = EntityRef & { name?: string };
export type TimeEntryMapper = EntityRef;
export type ExpenseMapper = EntityRef;
export type MilestoneMapper = EntityRef;
