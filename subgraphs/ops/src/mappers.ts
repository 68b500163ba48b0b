/**
 * GraphQL type → the value its resolvers receive (codegen `mappers`). Owned types map to drizzle
 * rows; types owned by other subgraphs are key stubs `{ id }`.
 */
import type { LineageEntity, LineageEvent } from "@pshub/db";
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
import type { EntitySearchRow } from "./data/entity-search.ts";
import type { KpiDay } from "./data/kpis.ts";

export type SyncExceptionMapper = typeof syncException.$inferSelect;
/** A domain_event row (Query.domainEvents) or a lineage's event: bigserial id, jsonb payload. */
export type LineageEventMapper = LineageEvent;
/** An entity of a lineage (its first event's id as text). */
export type LineageEntityMapper = Omit<LineageEntity, "firstEventId"> & { firstEventId: string };
export type AuditLogEntryMapper = typeof auditLog.$inferSelect;
export type SourceLinkMapper = typeof sourceLink.$inferSelect;
export type SyncCursorMapper = typeof syncCursor.$inferSelect;
export type InboxEventMapper = typeof inboxEvent.$inferSelect;
export type OutboundCommandMapper = typeof outboundCommand.$inferSelect;
export type ResyncRequestMapper = typeof resyncRequest.$inferSelect;
/** A hit of Query.entitySearch (../data/entity-search.ts). */
export type EntitySearchHitMapper = EntitySearchRow;
/** A record's id in a source system: a source_link row. */
export type ExternalRefMapper = typeof sourceLink.$inferSelect;

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
