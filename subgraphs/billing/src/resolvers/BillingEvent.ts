import { money, referenceId } from "@pshub/subgraph-kit";
import type { BillingEventResolvers } from "../__generated__/resolvers-types.ts";
import type { BillingEventMapper } from "../mappers.ts";

export const BillingEvent: BillingEventResolvers = {
  __resolveReference: async (ref, ctx) =>
    ctx.loaders.billingEvent().load(referenceId(ref, "BillingEvent")),
  rate: (row: BillingEventMapper) => money(row.rate, row.currency),
  amount: (row: BillingEventMapper) => money(row.amount, row.currency),
  project: (row: BillingEventMapper) => (row.projectId ? { id: row.projectId } : null),
  contract: (row: BillingEventMapper) => ({ id: row.contractId }),
  customer: (row: BillingEventMapper) => ({ id: row.customerId }),
  timeEntry: (row: BillingEventMapper) => (row.sourceType === "TIME" ? { id: row.sourceId } : null),
  expense: (row: BillingEventMapper) =>
    row.sourceType === "EXPENSE" ? { id: row.sourceId } : null,
  milestone: (row: BillingEventMapper) =>
    row.sourceType === "MILESTONE" ? { id: row.sourceId } : null,
};
