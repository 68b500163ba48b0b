import type { EntityRef } from "@pshub/subgraph-kit";
import { stubReference } from "@pshub/subgraph-kit";
import type { MilestoneResolvers } from "../__generated__/resolvers-types.ts";
import type { BillingContext } from "../context.ts";

export const Milestone: MilestoneResolvers = {
  __resolveReference: stubReference,
  billingEvent: (ref: EntityRef, _: unknown, ctx: BillingContext) =>
    ctx.loaders.liveEventBySource("MILESTONE").load(ref.id),
};
