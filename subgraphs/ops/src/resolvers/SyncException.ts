import { referenceId } from "@pshub/subgraph-kit";
import type { SyncExceptionResolvers } from "../__generated__/resolvers-types.ts";
import type { SyncExceptionEntityMapper } from "../mappers.ts";

/** sync_exception.entity_type (a table name) → the graph type that row is. */
const ENTITY_TYPES: Record<string, SyncExceptionEntityMapper["__typename"]> = {
  customer: "Customer",
  contract: "Contract",
  opportunity: "Opportunity",
  project: "Project",
  milestone: "Milestone",
  time_entry: "TimeEntry",
  expense: "Expense",
  billing_event: "BillingEvent",
  invoice: "Invoice",
  payment: "Payment",
  dispute: "Dispute",
};

export const SyncException: SyncExceptionResolvers = {
  __resolveReference: async (ref, ctx) =>
    ctx.loaders.syncException().load(referenceId(ref, "SyncException")),
  // A key stub: the entity's owning subgraph resolves the fields the client selects.
  entity: (row) => {
    const typename = row.entityType ? ENTITY_TYPES[row.entityType] : undefined;
    if (!typename || !row.entityId) return null;
    return { __typename: typename, id: row.entityId };
  },
  inboxEvent: (row, _, ctx) =>
    row.inboxEventId == null ? null : ctx.loaders.inboxEvent().load(String(row.inboxEventId)),
  command: (row, _, ctx) =>
    row.commandId == null ? null : ctx.loaders.outboundCommand().load(row.commandId),
  // The database decides (one definition, its clock): @pshub/db syncExceptionOverdueSql.
  overdue: (row, _, ctx) => ctx.loaders.syncExceptionOverdue().load(row.id),
};
