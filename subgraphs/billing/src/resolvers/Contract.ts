import { billingEvent } from "@pshub/db/schema";
import { NotFoundGraphQLError, stubReference } from "@pshub/subgraph-kit";
import type { ContractResolvers } from "../__generated__/resolvers-types.ts";
import { billingEventList } from "../data/lists.ts";

export const Contract: ContractResolvers = {
  __resolveReference: stubReference,
  billingRule: async (ref, _, ctx) => {
    const row = await ctx.loaders.contract().load(ref.id);
    if (!row) throw new NotFoundGraphQLError("Contract", ref.id);
    return row;
  },
  billingSchedule: (ref, _, ctx) => ctx.loaders.billingSchedule().load(ref.id),
  unbilled: (ref, args, ctx) => ctx.loaders.unbilled("contract", args.asOf).load(ref.id),
  billingEvents: (ref, args, ctx, info) =>
    ctx.loaders.connection(billingEventList, billingEvent.contractId, ref.id, args, info),
};
