import { fetchOne, paginate } from "@pshub/subgraph-kit";
import type { QueryResolvers } from "../__generated__/resolvers-types.ts";
import { syncExceptionList } from "../data/exceptions.ts";

export const Query: QueryResolvers = {
  syncException: (_, { id }, ctx) => fetchOne(ctx.loaders.syncException(), "SyncException", id),
  outboundCommand: (_, { id }, ctx) =>
    fetchOne(ctx.loaders.outboundCommand(), "OutboundCommand", id),
  syncExceptions: (_, args, ctx, info) =>
    paginate(ctx.db, syncExceptionList, args, { info, warn: ctx.warn, scope: ctx.scope }),
};
