/**
 * Exchange rates for reporting (table fx_rate). A rate says, as NetSuite's currencyrate record
 * does: 1 unit of `currency` is `rate` units of `baseCurrency`, from `effectiveDate` on. Rates
 * come from the ERP (cdc/netsuite currency-rates.ts, SuiteQL over currencyrate) or from a rates
 * file (CSV, parseFxRatesCsv); both are written by upsertFxRates. Conversions use the latest rate
 * effective on or before a day, crossed through a common base when the pair is not stored
 * directly; the rate is kept to 10 places and amounts are rounded half to even to cents
 * (convertMoney). Never a float.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "./client.ts";

export interface FxRateInput {
  baseCurrency: string;
  currency: string;
  /** A positive decimal string, e.g. "1.0823". */
  rate: string;
  /** YYYY-MM-DD. */
  effectiveDate: string;
  /** The source's id of the rate (NetSuite currencyrate internal id). */
  externalId?: string | null;
}

const iso = z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 code (three capitals)");
const fxRateInput = z.object({
  baseCurrency: iso,
  currency: iso,
  rate: z
    .string()
    .regex(/^\d{1,14}(\.\d{1,10})?$/, "a positive decimal, at most 10 places")
    .refine((v) => /[1-9]/.test(v), "greater than 0"),
  effectiveDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD"),
  externalId: z.string().nullish(),
});

/** Validates rates (zod); throws one error naming the first bad row and field. */
export function parseFxRates(rows: readonly unknown[]): FxRateInput[] {
  return rows.map((row, i) => {
    const parsed = fxRateInput.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`fx rate ${i + 1}: ${issue?.path.join(".")}: ${issue?.message}`);
    }
    return parsed.data;
  });
}

/**
 * A rates file: CSV with the header `base_currency,currency,rate,effective_date` (any column
 * order), one rate per line; blank lines and lines starting with # are skipped. A pair given
 * twice for one day is an error (which of the two would win is not the file's to leave open).
 */
export function parseFxRatesCsv(text: string): FxRateInput[] {
  const rates = parseFxRatesCsvRows(text);
  const seen = new Map<string, number>();
  rates.forEach((r, i) => {
    const key = `${r.baseCurrency} ${r.currency} ${r.effectiveDate}`;
    const first = seen.get(key);
    if (first !== undefined)
      throw new Error(
        `fx rate ${i + 1}: ${r.currency} in ${r.baseCurrency} on ${r.effectiveDate} is also fx rate ${first + 1}`,
      );
    seen.set(key, i);
  });
  return rates;
}

function parseFxRatesCsvRows(text: string): FxRateInput[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const header = (lines.shift() ?? "").split(",").map((h) => h.trim().toLowerCase());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`rates file: no ${name} column (header: ${header.join(",")})`);
    return i;
  };
  const [b, c, r, d] = ["base_currency", "currency", "rate", "effective_date"].map(col) as [
    number,
    number,
    number,
    number,
  ];
  return parseFxRates(
    lines.map((line) => {
      const cells = line.split(",").map((v) => v.trim());
      return {
        baseCurrency: cells[b],
        currency: cells[c],
        rate: cells[r],
        effectiveDate: cells[d],
      };
    }),
  );
}

/** Inserts or updates rates (one statement); returns how many rows changed. */
export async function upsertFxRates(
  tx: Pick<Tx, "execute">,
  rates: readonly FxRateInput[],
  source: "ERP" | "FILE",
): Promise<number> {
  if (rates.length === 0) return 0;
  const rows = parseFxRates(rates).map((r) => ({
    base_currency: r.baseCurrency,
    currency: r.currency,
    rate: r.rate,
    effective_date: r.effectiveDate,
    external_id: r.externalId ?? null,
  }));
  const changed = await tx.execute(sql`
    insert into fx_rate (base_currency, currency, rate, effective_date, source, external_id)
    select r.base_currency, r.currency, r.rate::numeric, r.effective_date::date, ${source}, r.external_id
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as r(base_currency text, currency text, rate text, effective_date text, external_id text)
    on conflict (base_currency, currency, effective_date) do update
      set rate = excluded.rate, source = excluded.source, external_id = excluded.external_id, updated_at = now()
      where (fx_rate.rate, fx_rate.source, fx_rate.external_id)
        is distinct from (excluded.rate, excluded.source, excluded.external_id)
    returning 1`);
  return changed.length;
}

/** The rate that converts one currency to the reporting currency on a day. */
export interface FxConversionRate {
  /** 1 unit of the currency = rate units of the reporting currency (10 places). */
  rate: string;
  /** The effective date of the rate used (of the older one when crossed through a base). */
  rateDate: string;
  /** ERP, FILE, or IDENTITY (the reporting currency itself: rate 1, dated asOf). */
  source: string;
}

/**
 * The rate of every currency that has one to `reportingCurrency`, as of `asOf` (YYYY-MM-DD):
 * the latest rates effective on or before asOf, direct when the pair is stored (either way
 * round), else crossed through a common base currency. A currency absent from the map has no
 * rate: its figures are not converted.
 */
export async function fxRatesTo(
  db: Pick<Db, "execute">,
  reportingCurrency: string,
  asOf: string,
): Promise<Map<string, FxConversionRate>> {
  const rows = await db.execute<{
    currency: string;
    rate: string;
    rate_date: string;
    source: string;
  }>(sql`
    with latest as (
      select distinct on (base_currency, currency) base_currency::text as b, currency::text as x, rate,
             effective_date, source
        from fx_rate where effective_date <= ${asOf}::date
       order by base_currency, currency, effective_date desc),
    -- Each currency's value in units of a base; the base itself is 1 (undated).
    pairs as (
      select b, x, rate, effective_date, source from latest
      union select b, b, 1::numeric, null::date, null from latest
      union select x, x, 1::numeric, null::date, null from latest),
    crossed as (
      select f.x as currency, round(f.rate / t.rate, 10) as rate,
             least(f.effective_date, t.effective_date) as rate_date, coalesce(f.source, t.source) as source,
             f.b = ${reportingCurrency} as direct
        from pairs f join pairs t on t.b = f.b and t.x = ${reportingCurrency}
       where f.x <> ${reportingCurrency})
    select distinct on (currency) currency, rate::text, rate_date::text, source
      from crossed where rate_date is not null
     order by currency, direct desc, rate_date desc`);
  const map = new Map<string, FxConversionRate>([
    [reportingCurrency, { rate: "1", rateDate: asOf, source: "IDENTITY" }],
  ]);
  for (const r of rows)
    map.set(r.currency, { rate: trimRate(r.rate), rateDate: r.rate_date, source: r.source });
  return map;
}

/** "1.0823000000" → "1.0823"; "2.0000000000" → "2". */
function trimRate(rate: string): string {
  return rate.includes(".") ? rate.replace(/0+$/, "").replace(/\.$/, "") : rate;
}
