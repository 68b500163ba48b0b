import { billingEvent } from "@pshub/db/schema";
import { stubReference } from "@pshub/subgraph-kit";
import type { CustomerResolvers } from "../__generated__/resolvers-types.ts";
import { billingEventList } from "../data/lists.ts";

export const Customer: CustomerResolvers = {
  __resolveReference: stubReference,
  unbilledOwn: (ref, args, ctx) => ctx.loaders.unbilled("customer", args.asOf).load(ref.id),
  unbilledWithSubsidiaries: (ref, args, ctx) =>
    ctx.loaders.unbilled("customerHierarchy", args.asOf).load(ref.id),
  unbilled: (ref, _, ctx) => ctx.loaders.unbilled("customer").load(ref.id),
  billingEvents: (ref, args, ctx, info) =>
    ctx.loaders.connection(billingEventList, billingEvent.customerId, ref.id, args, info),
};
