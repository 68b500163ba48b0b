import { money } from "@pshub/subgraph-kit";
import type { UnbilledTotalResolvers } from "../__generated__/resolvers-types.ts";
import type { UnbilledTotalMapper } from "../mappers.ts";

export const UnbilledTotal: UnbilledTotalResolvers = {
  timeAmount: (row: UnbilledTotalMapper) => money(row.timeAmount, row.currency),
  expenseAmount: (row: UnbilledTotalMapper) => money(row.expenseAmount, row.currency),
  milestoneAmount: (row: UnbilledTotalMapper) => money(row.milestoneAmount, row.currency),
  fixedFeeAmount: (row: UnbilledTotalMapper) => money(row.fixedFeeAmount, row.currency),
  retainerAmount: (row: UnbilledTotalMapper) => money(row.retainerAmount, row.currency),
  nextRunAmount: (row: UnbilledTotalMapper) => money(row.nextRunAmount, row.currency),
  readyAmount: (row: UnbilledTotalMapper) => money(row.readyAmount, row.currency),
  total: (row: UnbilledTotalMapper) => money(row.total, row.currency),
};
