/**
 * GraphQL type → the value its resolvers receive (codegen `mappers`). Owned types map to drizzle
 * rows; types owned by other subgraphs are key stubs `{ id }`.
 */
import type { LineageEvent } from "@pshub/db";
import type {
  auditLog,
  inboxEvent,
  outboundCommand,
  resyncRequest,
  sourceLink,
  syncCursor,
  syncException,
} from "@pshub/db/schema";
import type { EntityRef } from "@pshub/subgraph-kit";
import type { KpiDay } from "./data/kpis.ts";

export type SyncExceptionMapper = typeof syncException.$inferSelect;
/** A domain_event row (Query.domainEvents) or a lineage's event: bigserial id, jsonb payload. */
export type LineageEventMapper = LineageEvent;
export type AuditLogEntryMapper = typeof auditLog.$inferSelect;
export type SourceLinkMapper = typeof sourceLink.$inferSelect;
export type SyncCursorMapper = typeof syncCursor.$inferSelect;
export type InboxEventMapper = typeof inboxEvent.$inferSelect;
export type OutboundCommandMapper = typeof outboundCommand.$inferSelect;
export type ResyncRequestMapper = typeof resyncRequest.$inferSelect;

export type CustomerMapper = EntityRef;
export type ContractMapper = EntityRef;
export type OpportunityMapper = EntityRef;
export type ProjectMapper = EntityRef;
export type MilestoneMapper = EntityRef;
export type TimeEntryMapper = EntityRef;
export type ExpenseMapper = EntityRef;
export type BillingEventMapper = EntityRef;
export type InvoiceMapper = EntityRef;
export type PaymentMapper = EntityRef;
export type DisputeMapper = EntityRef;

/** SyncException.entity: a key stub that names its graph type (its owner resolves the rest). */
export interface SyncExceptionEntityMapper extends EntityRef {
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
/** Query.kpis: the day and the caller's scope; each Kpis field computes its figures from them. */
export type KpisMapper = KpiDay;
