import type { SyncExceptionResolvers } from "../__generated__/resolvers-types.ts";
import type { BillingContext } from "../context.ts";
import type { EntityRef, SyncExceptionMapper } from "../mappers.ts";

export const SyncException: SyncExceptionResolvers = {
  __resolveReference: (ref: EntityRef, ctx: BillingContext) =>
    ctx.loaders.syncException().load(ref.id),
  overdue: (row: SyncExceptionMapper) =>
    (row.status === "OPEN" || row.status === "RETRYING") && row.dueAt.getTime() < Date.now(),
};
