import { money } from "@pshub/subgraph-kit";
import type { FeeScheduleItemResolvers } from "../__generated__/resolvers-types.ts";
import type { BillingContext } from "../context.ts";
import type { FeeScheduleItemMapper } from "../mappers.ts";

export const FeeScheduleItem: FeeScheduleItemResolvers = {
  amount: (row: FeeScheduleItemMapper) => money(row.amount, row.currency),
  contract: (row: FeeScheduleItemMapper) => ({ id: row.contractId }),
  billingEvent: (row: FeeScheduleItemMapper, _: unknown, ctx: BillingContext) =>
    ctx.loaders.liveEventBySource("FIXED_FEE").load(row.id),
};
