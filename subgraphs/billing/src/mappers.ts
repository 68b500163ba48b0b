/**
 * GraphQL type → the value its resolvers receive (codegen `mappers`). Owned types map to drizzle
 * rows; types owned by other subgraphs are key stubs `{ id }`.
 */
import type { LineageEvent } from "@pshub/db";
import type {
  auditLog,
  billingEvent,
  contract,
  feeScheduleItem,
  inboxEvent,
  outboundCommand,
  sourceLink,
  syncCursor,
  syncException,
} from "@pshub/db/schema";
import type { UnbilledRow } from "./data/unbilled.ts";

export type BillingEventMapper = typeof billingEvent.$inferSelect;
export type SyncExceptionMapper = typeof syncException.$inferSelect;
/** A billing rule is derived from its contract row. */
export type BillingRuleMapper = typeof contract.$inferSelect;
export type FeeScheduleItemMapper = typeof feeScheduleItem.$inferSelect;
export type UnbilledTotalMapper = UnbilledRow;
/** A domain_event row (Query.domainEvents) or a lineage's event: bigserial id, jsonb payload. */
export type LineageEventMapper = LineageEvent;
export type AuditLogEntryMapper = typeof auditLog.$inferSelect;
export type SourceLinkMapper = typeof sourceLink.$inferSelect;
export type SyncCursorMapper = typeof syncCursor.$inferSelect;
export type InboxEventMapper = typeof inboxEvent.$inferSelect;
export type OutboundCommandMapper = typeof outboundCommand.$inferSelect;

import type { EntityRef } from "@pshub/subgraph-kit";

export type { EntityRef };
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
