/** Query.kpis and the Kpis fields (../../sdl/Kpis.graphql): each field is one statement (../data/kpis.ts). */
import type { KpisResolvers, QueryResolvers } from "../__generated__/resolvers-types.ts";
import {
  invoiceCycleTime,
  kpiDay,
  openExceptions,
  receivables,
  unbilledWork,
} from "../data/kpis.ts";
import { syncStatus } from "../data/sync-status.ts";

export const kpisQuery: Pick<QueryResolvers, "kpis"> = {
  kpis: (_, { asOf }, ctx) => kpiDay(ctx.db, asOf, ctx.scope),
};

export const Kpis: KpisResolvers = {
  asOf: (day) => day.asOf,
  unbilled: (day, _, ctx) => unbilledWork(ctx.db, day),
  receivables: (day, _, ctx) => receivables(ctx.db, day),
  invoiceCycleTime: (day, _, ctx) => invoiceCycleTime(ctx.db, day),
  syncHealth: async (day, _, ctx) =>
    (await syncStatus(ctx.db, null, day.scope)).map((s) => ({
      connector: s.connector,
      object: s.object,
      lagMs: s.lagMs,
      lastSuccessAt: s.lastSuccessAt,
      errors: s.errors,
      pending: s.pending,
    })),
  openExceptions: (day, _, ctx) => openExceptions(ctx.db, day),
};
