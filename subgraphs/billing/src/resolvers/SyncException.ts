import { referenceId } from "@pshub/subgraph-kit";
import type { SyncExceptionResolvers } from "../__generated__/resolvers-types.ts";
import type { SyncExceptionEntityRef } from "../mappers.ts";

/** sync_exception.entity_type (a table name) → the graph type that row is. */
const ENTITY_TYPES: Record<string, SyncExceptionEntityRef["__typename"]> = {
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
  entity: async (row, _, ctx) => {
    const typename = row.entityType ? ENTITY_TYPES[row.entityType] : undefined;
    if (!typename || !row.entityId) return null;
    if (typename !== "BillingEvent") return { __typename: typename, id: row.entityId };
    // Billing owns BillingEvent: resolve the row here, not a stub.
    const event = await ctx.loaders.billingEvent().load(row.entityId);
    return event ? { ...event, __typename: typename } : null;
  },
  // The database decides (one definition, its clock): @pshub/db syncExceptionOverdueSql.
  overdue: (row, _, ctx) => ctx.loaders.syncExceptionOverdue().load(row.id),
};
