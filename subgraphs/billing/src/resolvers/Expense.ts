import type { EntityRef } from "@pshub/subgraph-kit";
import { stubReference } from "@pshub/subgraph-kit";
import type { ExpenseResolvers } from "../__generated__/resolvers-types.ts";
import type { BillingContext } from "../context.ts";

export const Expense: ExpenseResolvers = {
  __resolveReference: stubReference,
  billingEvent: (ref: EntityRef, _: unknown, ctx: BillingContext) =>
    ctx.loaders.liveEventBySource("EXPENSE").load(ref.id),
};
