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
export type OpportunityMapper = EntityRef;
export type InvoiceMapper = EntityRef;
export type PaymentMapper = EntityRef;
export type DisputeMapper = EntityRef;

/** SyncException.entity: a key stub that names its graph type. */
export interface SyncExceptionEntityRef extends EntityRef {
  __typename:
    | "Customer"
    | "Contract"
    | "Opportunity"
    | "Project"
    | "Milestone"
    | "TimeEntry"
    | "Expense"
    | "BillingEvent"
    | "Invoice"
    | "Payment"
    | "Dispute";
}
/** SyncException.entity: a key stub naming its graph type, or (BillingEvent) the row itself. */
export type SyncExceptionEntityMapper =
  | SyncExceptionEntityRef
  | (BillingEventMapper & { __typename: "BillingEvent" });
