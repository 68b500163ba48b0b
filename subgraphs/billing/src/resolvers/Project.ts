import { billingEvent } from "@pshub/db/schema";
import { stubReference } from "@pshub/subgraph-kit";
import type { ProjectResolvers } from "../__generated__/resolvers-types.ts";
import { billingEventList } from "../data/lists.ts";

export const Project: ProjectResolvers = {
  __resolveReference: stubReference,
  unbilled: (ref, args, ctx) => ctx.loaders.unbilled("project", args.asOf).load(ref.id),
  billingEvents: (ref, args, ctx, info) =>
    ctx.loaders.connection(billingEventList, billingEvent.projectId, ref.id, args, info),
};
