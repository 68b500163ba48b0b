import { assignment, expense, milestone, project, resource, timeEntry } from "@pshub/db/schema";
import { fetchOne, paginate } from "@pshub/subgraph-kit";
import type { QueryResolvers } from "../__generated__/resolvers-types.ts";
import {
  assignmentList,
  expenseList,
  milestoneList,
  projectList,
  resourceList,
  timeEntryList,
} from "../lists.ts";

export const Query: QueryResolvers = {
  project: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(project), "Project", id),
  projects: (_, args, ctx, info) =>
    paginate(ctx.db, projectList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  milestone: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(milestone), "Milestone", id),
  milestones: (_, args, ctx, info) =>
    paginate(ctx.db, milestoneList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  resource: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(resource), "Resource", id),
  resources: (_, args, ctx, info) =>
    paginate(ctx.db, resourceList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  assignment: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(assignment), "Assignment", id),
  assignments: (_, args, ctx, info) =>
    paginate(ctx.db, assignmentList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  timeEntry: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(timeEntry), "TimeEntry", id),
  timeEntries: (_, args, ctx, info) =>
    paginate(ctx.db, timeEntryList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  expense: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(expense), "Expense", id),
  expenses: (_, args, ctx, info) =>
    paginate(ctx.db, expenseList, args, { info, warn: ctx.warn, scope: ctx.scope }),
};
