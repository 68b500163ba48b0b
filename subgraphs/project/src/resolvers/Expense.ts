import { expense, project, resource } from "@pshub/db/schema";
import { money } from "@pshub/subgraph-kit";
import type { ExpenseResolvers } from "../__generated__/resolvers-types.ts";
import { required } from "./refs.ts";

export const Expense: ExpenseResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(expense).load(ref.id),
  project: (e, _, ctx) =>
    ctx.loaders.byId(project).load(e.projectId).then(required("Project", e.projectId)),
  resource: (e, _, ctx) =>
    ctx.loaders.byId(resource).load(e.resourceId).then(required("Resource", e.resourceId)),
  amount: (e) => money(e.amount, e.currency),
};
