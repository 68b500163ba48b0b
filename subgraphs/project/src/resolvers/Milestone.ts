import { milestone, project } from "@pshub/db/schema";
import { money } from "@pshub/subgraph-kit";
import type { MilestoneResolvers } from "../__generated__/resolvers-types.ts";
import { required } from "./refs.ts";

export const Milestone: MilestoneResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(milestone).load(ref.id),
  project: (m, _, ctx) =>
    ctx.loaders.byId(project).load(m.projectId).then(required("Project", m.projectId)),
  amount: (m) => money(m.amount, m.currency),
};
