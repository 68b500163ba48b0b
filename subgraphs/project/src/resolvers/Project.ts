import { assignment, expense, milestone, project, timeEntry } from "@pshub/db/schema";
import { money } from "@pshub/subgraph-kit";
import type { ProjectResolvers } from "../__generated__/resolvers-types.ts";
import { assignmentList, expenseList, milestoneList, timeEntryList } from "../lists.ts";

export const Project: ProjectResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(project).load(ref.id),
  contract: (p) => ({ id: p.contractId }),
  customer: (p) => ({ id: p.customerId }),
  budgetAmount: (p) => money(p.budgetAmount, p.currency),
  hoursSummary: (p, _, ctx) => ctx.loaders.projectHours.load(p.id),
  milestones: (p, args, ctx, info) =>
    ctx.loaders.connection(milestoneList, milestone.projectId, p.id, args, info),
  assignments: (p, args, ctx, info) =>
    ctx.loaders.connection(assignmentList, assignment.projectId, p.id, args, info),
  timeEntries: (p, args, ctx, info) =>
    ctx.loaders.connection(timeEntryList, timeEntry.projectId, p.id, args, info),
  expenses: (p, args, ctx, info) =>
    ctx.loaders.connection(expenseList, expense.projectId, p.id, args, info),
};
