import type { BillingScheduleResolvers } from "../__generated__/resolvers-types.ts";

export const BillingSchedule: BillingScheduleResolvers = {
  contract: (row) => ({ id: row.contractId }),
  runs: (row, args, ctx) =>
    ctx.loaders.billingRuns(Math.min(Math.max(args.last ?? 12, 1), 100)).load(row.contractId),
};
