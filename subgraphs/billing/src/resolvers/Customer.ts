import { billingEvent } from "@pshub/db/schema";
import type { ConnectionArgs } from "@pshub/subgraph-kit";
import type { GraphQLResolveInfo } from "graphql";
import type { BillingContext } from "../context.ts";
import { type BillingEventFilterInput, billingEventList } from "../data/lists.ts";
import type { EntityRef } from "../mappers.ts";
import { stubReference } from "./refs.ts";

export const Customer = {
  __resolveReference: stubReference,
  unbilled: (ref: EntityRef, _: unknown, ctx: BillingContext) =>
    ctx.loaders.unbilled("customer").load(ref.id),
  billingEvents: (
    ref: EntityRef,
    args: ConnectionArgs<BillingEventFilterInput>,
    ctx: BillingContext,
    info: GraphQLResolveInfo,
  ) => ctx.loaders.connection(billingEventList, billingEvent.customerId, ref.id, args, info),
};
