import { assignment, expense, resource, timeEntry } from "@pshub/db/schema";
import { money } from "@pshub/subgraph-kit";
import type { ResourceResolvers } from "../__generated__/resolvers-types.ts";
import { assignmentList, expenseList, timeEntryList } from "../lists.ts";

export const Resource: ResourceResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(resource).load(ref.id),
  legalEntity: (r) => (r.legalEntityId ? { id: r.legalEntityId } : null),
  billRate: (r) => money(r.billRate, r.currency),
  costRate: (r) => money(r.costRate, r.currency),
  assignments: (r, args, ctx, info) =>
    ctx.loaders.connection(assignmentList, assignment.resourceId, r.id, args, info),
  timeEntries: (r, args, ctx, info) =>
    ctx.loaders.connection(timeEntryList, timeEntry.resourceId, r.id, args, info),
  expenses: (r, args, ctx, info) =>
    ctx.loaders.connection(expenseList, expense.resourceId, r.id, args, info),
};
