/**
 * Query.kpis and the Kpis fields (../../sdl/Kpis.graphql): each field is one statement (../data/kpis.ts);
 * amounts are converted to the reporting currency with the day's rates, read once per request.
 */
import type { KpisResolvers, QueryResolvers } from "../__generated__/resolvers-types.ts";
import {
  converted,
  currencyTotals,
  fxRates,
  invoiceCycleTime,
  kpiDay,
  lagHistory,
  leakage,
  openExceptions,
  receivables,
  unbilledWork,
  utilisation,
  withoutJit,
} from "../data/kpis.ts";
import { syncStatus } from "../data/sync-status.ts";

export const kpisQuery: Pick<QueryResolvers, "kpis"> = {
  kpis: (_, { asOf, reportingCurrency }, ctx) => kpiDay(ctx.db, asOf, ctx.scope, reportingCurrency),
};

export const Kpis: KpisResolvers = {
  asOf: (day) => day.asOf,
  reportingCurrency: (day) => day.reportingCurrency,
  fxRates: (day) => fxRates(day),
  currencyTotals: (day, _, ctx) => currencyTotals(ctx.db, day),
  unbilled: async (day, _, ctx) => {
    const [rows, rates] = await Promise.all([
      day.once("unbilled", () => withoutJit(ctx.db, (tx) => unbilledWork(tx, day))),
      day.rates(),
    ]);
    return rows.map((r) => ({
      ...r,
      amountConverted: converted(rates, day.reportingCurrency, r.amount, r.currency),
    }));
  },
  billingLeakage: (day, { olderThanDays }, ctx) => leakage(ctx.db, day, olderThanDays),
  utilisation: (day, _, ctx) => withoutJit(ctx.db, (tx) => utilisation(tx, day)),
  receivables: async (day, _, ctx) => {
    const [rows, rates] = await Promise.all([
      day.once("receivables", () => withoutJit(ctx.db, (tx) => receivables(tx, day))),
      day.rates(),
    ]);
    return rows.map((r) => ({
      ...r,
      outstandingConverted: converted(rates, day.reportingCurrency, r.outstanding, r.currency),
    }));
  },
  invoiceCycleTime: (day, _, ctx) => withoutJit(ctx.db, (tx) => invoiceCycleTime(tx, day)),
  syncHealth: async (day, _, ctx) => {
    const [status, history] = await Promise.all([
      syncStatus(ctx.db, null, day.scope),
      lagHistory(ctx.db),
    ]);
    return status.map((s) => {
      const h = history.get(`${s.connector}/${s.object}`);
      return {
        connector: s.connector,
        object: s.object,
        lagMs: s.lagMs,
        lagP50Ms24h: h?.p50 ?? null,
        lagP99Ms24h: h?.p99 ?? null,
        lagSamples24h: h?.samples ?? 0,
        lastSuccessAt: s.lastSuccessAt,
        errors: s.errors,
        pending: s.pending,
      };
    });
  },
  openExceptions: (day, _, ctx) => openExceptions(ctx.db, day),
};
