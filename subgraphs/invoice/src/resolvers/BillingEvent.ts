import type { BillingEventResolvers } from "../__generated__/resolvers-types.ts";
import { stubReference } from "./refs.ts";

export const BillingEvent: BillingEventResolvers = {
  __resolveReference: stubReference,
  invoiceLine: (ref, _, ctx) => ctx.loaders.liveLineByBillingEvent().load(ref.id),
};
