import { stubReference } from "@pshub/subgraph-kit";
import type { BillingEventResolvers } from "../__generated__/resolvers-types.ts";

export const BillingEvent: BillingEventResolvers = {
  __resolveReference: stubReference,
  invoiceLine: (ref, _, ctx) => ctx.loaders.liveLineByBillingEvent().load(ref.id),
};
