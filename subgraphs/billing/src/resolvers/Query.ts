import { assertUuid, fetchOne, paginate } from "@pshub/subgraph-kit";
import type { QueryResolvers } from "../__generated__/resolvers-types.ts";
import { billingEventList, billingRuleList, feeScheduleItemList } from "../data/lists.ts";

export const Query: QueryResolvers = {
  billingEvent: (_, { id }, ctx) => fetchOne(ctx.loaders.billingEvent(), "BillingEvent", id),
  billingEvents: (_, args, ctx, info) =>
    paginate(ctx.db, billingEventList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  billingRule: (_, { contractId }, ctx) =>
    fetchOne(ctx.loaders.contract(), "Contract", assertUuid(contractId, "contractId")),
  billingRules: (_, args, ctx, info) =>
    paginate(ctx.db, billingRuleList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  feeScheduleItems: (_, args, ctx, info) =>
    paginate(ctx.db, feeScheduleItemList, args, { info, warn: ctx.warn, scope: ctx.scope }),
};
