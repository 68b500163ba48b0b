import type { EntityRef } from "@pshub/subgraph-kit";
import { stubReference } from "@pshub/subgraph-kit";
import type { TimeEntryResolvers } from "../__generated__/resolvers-types.ts";
import type { BillingContext } from "../context.ts";

export const TimeEntry: TimeEntryResolvers = {
  __resolveReference: stubReference,
  billingEvent: (ref: EntityRef, _: unknown, ctx: BillingContext) =>
    ctx.loaders.liveEventBySource("TIME").load(ref.id),
};
