import { billingEvent } from "@pshub/db/schema";
import { type ConnectionArgs, NotFoundGraphQLError } from "@pshub/subgraph-kit";
import type { GraphQLResolveInfo } from "graphql";
import type { BillingContext } from "../context.ts";
import { type BillingEventFilterInput, billingEventList } from "../data/lists.ts";
import type { EntityRef } from "../mappers.ts";
import { stubReference } from "./refs.ts";

export const Contract = {
  __resolveReference: stubReference,
  billingRule: async (ref: EntityRef, _: unknown, ctx: BillingContext) => {
    const row = await ctx.loaders.contract().load(ref.id);
    if (!row) throw new NotFoundGraphQLError("Contract", ref.id);
    return row;
  },
  unbilled: (ref: EntityRef, _: unknown, ctx: BillingContext) =>
    ctx.loaders.unbilled("contract").load(ref.id),
  billingEvents: (
    ref: EntityRef,
    args: ConnectionArgs<BillingEventFilterInput>,
    ctx: BillingContext,
    info: GraphQLResolveInfo,
  ) => ctx.loaders.connection(billingEventList, billingEvent.contractId, ref.id, args, info),
};
