import { multiplyMoney } from "@pshub/db";
import { project, resource, timeEntry } from "@pshub/db/schema";
import { money } from "@pshub/subgraph-kit";
import type { TimeEntryResolvers } from "../__generated__/resolvers-types.ts";
import { required } from "./refs.ts";

export const TimeEntry: TimeEntryResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(timeEntry).load(ref.id),
  project: (t, _, ctx) =>
    ctx.loaders.byId(project).load(t.projectId).then(required("Project", t.projectId)),
  resource: (t, _, ctx) =>
    ctx.loaders.byId(resource).load(t.resourceId).then(required("Resource", t.resourceId)),
  billRate: (t) => money(t.billRate, t.currency),
  amount: (t) => money(multiplyMoney(t.hours, t.billRate), t.currency),
};
