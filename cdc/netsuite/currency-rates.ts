/**
 * NetSuite currency exchange rates → fx_rate (db fx-rates.ts), for the KPIs' reporting currency.
 *
 * SuiteQL over the `currencyrate` record (Lists > Accounting > Currency Exchange Rates): its
 * fields `basecurrency` and `transactioncurrency` (currency record ids, joined to `currency` for
 * the ISO `symbol`), `exchangerate` ("the base currency amount divided by the foreign currency
 * amount": 1 unit of the transaction currency = exchangerate units of the base) and
 * `effectivedate`. Read in pages (limit/offset while hasMore), ordered by (effectivedate, id);
 * each sync reads from `lookbackDays` before the newest rate already stored from the ERP, so a
 * rate corrected after the fact is read again (upserts change only what differs).
 */
import { type Db, upsertFxRates } from "@pshub/db";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { NetSuiteClient } from "./client.ts";

/** The SuiteQL of the rates effective on or after `since` (YYYY-MM-DD), or all of them. */
export function currencyRateQuery(since?: string): string {
  if (since !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(since))
    throw new Error(`currencyRateQuery: since must be YYYY-MM-DD, got ${since}`);
  const where = since ? ` WHERE r.effectivedate >= TO_DATE('${since}', 'YYYY-MM-DD')` : "";
  return `SELECT r.id, b.symbol AS basecurrency, t.symbol AS transactioncurrency, r.exchangerate, TO_CHAR(r.effectivedate, 'YYYY-MM-DD') AS effectivedate FROM currencyrate r JOIN currency b ON b.id = r.basecurrency JOIN currency t ON t.id = r.transactioncurrency${where} ORDER BY r.effectivedate, r.id`;
}

/** SuiteQL answers numbers as strings; a rate below 1 may come without its leading zero (".92"). */
const rateRow = z.object({
  id: z.coerce.string(),
  basecurrency: z.string(),
  transactioncurrency: z.string(),
  exchangerate: z.coerce.string().transform((v) => (v.startsWith(".") ? `0${v}` : v)),
  effectivedate: z.string(),
});

export interface CurrencyRateSyncResult {
  /** Rates read from NetSuite. */
  read: number;
  /** fx_rate rows inserted or changed. */
  changed: number;
}

/** Reads NetSuite's currency rates into fx_rate (source ERP). */
export async function syncCurrencyRates(
  client: NetSuiteClient,
  db: Db,
  options: { lookbackDays?: number; pageSize?: number } = {},
): Promise<CurrencyRateSyncResult> {
  const [newest] = await db.execute<{ since: string | null }>(sql`
    select (max(effective_date) - ${options.lookbackDays ?? 7}::int)::text as since
      from fx_rate where source = 'ERP'`);
  const q = currencyRateQuery(newest?.since ?? undefined);
  const pageSize = options.pageSize ?? 1000;
  let read = 0;
  let changed = 0;
  for (let offset = 0; ; offset += pageSize) {
    const page = await client.suiteql(q, pageSize, offset);
    const rates = page.items.map((item) => {
      const r = rateRow.parse(item);
      return {
        baseCurrency: r.basecurrency,
        currency: r.transactioncurrency,
        rate: r.exchangerate,
        effectiveDate: r.effectivedate,
        externalId: r.id,
      };
    });
    read += rates.length;
    changed += await db.transaction((tx) => upsertFxRates(tx, rates, "ERP"));
    if (!page.hasMore) break;
  }
  return { read, changed };
}
