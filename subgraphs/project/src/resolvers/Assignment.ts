import { assignment, project, resource } from "@pshub/db/schema";
import { money } from "@pshub/subgraph-kit";
import type { AssignmentResolvers } from "../__generated__/resolvers-types.ts";
import { required } from "./refs.ts";

type ResourceRow = typeof resource.$inferSelect;

export const Assignment: AssignmentResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(assignment).load(ref.id),
  resource: (a, _, ctx) =>
    ctx.loaders.byId(resource).load(a.resourceId).then(required("Resource", a.resourceId)),
  project: (a, _, ctx) =>
    ctx.loaders.byId(project).load(a.projectId).then(required("Project", a.projectId)),
  billRateOverride: async (a, _, ctx) => {
    if (a.billRateOverride == null) return null;
    const r = await ctx.loaders
      .byId(resource)
      .load(a.resourceId)
      .then(required<ResourceRow>("Resource", a.resourceId));
    return money(a.billRateOverride, r.currency);
  },
  effectiveBillRate: async (a, _, ctx) => {
    const r = await ctx.loaders
      .byId(resource)
      .load(a.resourceId)
      .then(required<ResourceRow>("Resource", a.resourceId));
    return money(a.billRateOverride ?? r.billRate, r.currency);
  },
};
