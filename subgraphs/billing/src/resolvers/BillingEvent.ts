import { project } from "@pshub/db/schema";
import { money, referenceId, selectsField } from "@pshub/subgraph-kit";
import type { BillingEventResolvers } from "../__generated__/resolvers-types.ts";
import type { BillingEventMapper } from "../mappers.ts";

export const BillingEvent: BillingEventResolvers = {
  __resolveReference: async (ref, ctx) =>
    ctx.loaders.billingEvent().load(referenceId(ref, "BillingEvent")),
  rate: (row: BillingEventMapper) => money(row.rate, row.currency),
  amount: (row: BillingEventMapper) => money(row.amount, row.currency),
  // The SDL provides the project's name (@provides): read from the project row when the plan asks
  // for it, else the key alone (the project subgraph resolves the rest).
  project: (row: BillingEventMapper, _args, ctx, info) => {
    if (!row.projectId) return null;
    if (!selectsField(info, "name")) return { id: row.projectId };
    return ctx.loaders.byId(project).load(row.projectId);
  },
  contract: (row: BillingEventMapper) => ({ id: row.contractId }),
  customer: (row: BillingEventMapper) => ({ id: row.customerId }),
  timeEntry: (row: BillingEventMapper) => (row.sourceType === "TIME" ? { id: row.sourceId } : null),
  expense: (row: BillingEventMapper) =>
    row.sourceType === "EXPENSE" ? { id: row.sourceId } : null,
  milestone: (row: BillingEventMapper) =>
    row.sourceType === "MILESTONE" ? { id: row.sourceId } : null,
};
