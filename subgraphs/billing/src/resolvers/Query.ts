import { NotFoundGraphQLError, paginate } from "@pshub/subgraph-kit";
import type { GraphQLResolveInfo } from "graphql";
import type { BillingContext } from "../context.ts";
import { billingEventList, billingRuleList, syncExceptionList } from "../data/lists.ts";
import { uuidArg } from "../data/sql-util.ts";

type Args = Record<string, never>;

async function must<T>(value: Promise<T | null>, type: string, id: string): Promise<T> {
  const row = await value;
  if (row == null) throw new NotFoundGraphQLError(type, id);
  return row;
}

export const Query = {
  billingEvent: (_: unknown, { id }: { id: string }, ctx: BillingContext) =>
    must(ctx.loaders.billingEvent().load(uuidArg("id", id)), "BillingEvent", id),
  billingEvents: (_: unknown, args: Args, ctx: BillingContext, info: GraphQLResolveInfo) =>
    paginate(ctx.db, billingEventList, args, { info, warn: ctx.warn }),
  billingRule: (_: unknown, { contractId }: { contractId: string }, ctx: BillingContext) =>
    must(ctx.loaders.contract().load(uuidArg("contractId", contractId)), "Contract", contractId),
  billingRules: (_: unknown, args: Args, ctx: BillingContext, info: GraphQLResolveInfo) =>
    paginate(ctx.db, billingRuleList, args, { info, warn: ctx.warn }),
  syncException: (_: unknown, { id }: { id: string }, ctx: BillingContext) =>
    must(ctx.loaders.syncException().load(uuidArg("id", id)), "SyncException", id),
  syncExceptions: (_: unknown, args: Args, ctx: BillingContext, info: GraphQLResolveInfo) =>
    paginate(ctx.db, syncExceptionList, args, { info, warn: ctx.warn }),
};
