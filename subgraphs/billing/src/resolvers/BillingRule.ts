import { money } from "@pshub/subgraph-kit";
import type { BillingRuleResolvers } from "../__generated__/resolvers-types.ts";
import type { BillingContext } from "../context.ts";
import type { BillingRuleMapper } from "../mappers.ts";

const RATE_SOURCE = {
  TIME_AND_MATERIALS: "TIME_ENTRY_RATE",
  FIXED_FEE: "FEE_SCHEDULE",
  RETAINER: "RETAINER_AMOUNT",
  MILESTONE: "MILESTONE_AMOUNT",
} as const;

/** One sentence: what a billing run bills under this contract. */
function summary(row: BillingRuleMapper): string {
  const expenses = "plus approved billable expenses (at cost)";
  switch (row.billingModel) {
    case "TIME_AND_MATERIALS":
      return `Bills approved billable hours at each time entry's bill rate, ${expenses}.`;
    case "FIXED_FEE":
      return `Bills each fee schedule item once it falls due (contract value ${row.totalValue} ${row.currency}).`;
    case "RETAINER":
      return `Bills ${row.retainerAmount} ${row.currency} per month covering ${row.retainerHours} hours${row.retainerProration === "DAILY" ? " (a partial month prorated by day)" : ""}; hours beyond that at each time entry's bill rate, ${expenses}.`;
    case "MILESTONE":
      return "Bills each milestone's amount once the milestone is approved.";
  }
}

export const BillingRule: BillingRuleResolvers = {
  contract: (row: BillingRuleMapper) => ({ id: row.id }),
  rateSource: (row: BillingRuleMapper) => RATE_SOURCE[row.billingModel],
  summary,
  totalValue: (row: BillingRuleMapper) => money(row.totalValue, row.currency),
  retainerProration: (row: BillingRuleMapper) =>
    row.billingModel === "RETAINER" ? row.retainerProration : null,
  retainerAmount: (row: BillingRuleMapper) =>
    row.retainerAmount == null ? null : money(row.retainerAmount, row.currency),
  feeSchedule: (row: BillingRuleMapper, _: unknown, ctx: BillingContext) =>
    ctx.loaders.feeSchedule().load(row.id),
  milestones: async (row: BillingRuleMapper, _: unknown, ctx: BillingContext) =>
    row.billingModel === "MILESTONE"
      ? (await ctx.loaders.milestoneIds().load(row.id)).map((id) => ({ id }))
      : [],
};
