/**
 * Money rules. Amounts are decimal strings (numeric(18,2)); arithmetic happens in SQL numeric,
 * or here in integer cents (BigInt) — never in JS floats.
 *
 * Rounding: every amount that is a product (hours × rate, amount × tax rate) is rounded to cents
 * half-to-even ("banker's rounding") by the SQL function pshub_round_half_even (migration 0002):
 * - a billing event's amount = round_half_even(quantity × rate);
 * - an invoice's tax = Σ over its lines of round_half_even(line amount × tax rate) (per line);
 * - an invoice's total = subtotal + tax, with subtotal = Σ line amounts (a CHECK enforces it).
 */

/** "12.3" → 1230n; "-0.05" → -5n. Throws on anything that is not a decimal with ≤ 2 places. */
export function toCents(value: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(value.trim());
  if (!m) throw new Error(`not a money amount: ${value}`);
  const cents = BigInt(m[2]!) * 100n + BigInt((m[3] ?? "").padEnd(2, "0"));
  return m[1] === "-" ? -cents : cents;
}

/** 1230n → "12.30". */
export function fromCents(cents: bigint): string {
  const sign = cents < 0n ? "-" : "";
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
}

export function addMoney(...values: string[]): string {
  return fromCents(values.reduce((sum, v) => sum + toCents(v), 0n));
}

export function isZero(value: string): boolean {
  return toCents(value) === 0n;
}

/** a − b, exact. */
export function subtractMoney(a: string, b: string): string {
  return fromCents(toCents(a) - toCents(b));
}

/**
 * a × b for two decimals with up to 2 places (e.g. hours × rate), rounded half to even to cents:
 * the same result as SQL `pshub_round_half_even(a * b, 2)`.
 */
export function multiplyMoney(a: string, b: string): string {
  const product = toCents(a) * toCents(b); // scale 4
  const negative = product < 0n;
  const abs = negative ? -product : product;
  let cents = abs / 100n;
  const remainder = abs % 100n;
  if (remainder > 50n || (remainder === 50n && cents % 2n === 1n)) cents += 1n;
  return fromCents(negative ? -cents : cents);
}

/**
 * An amount (≤ 2 places) × an exchange rate (a decimal with any number of places), rounded half
 * to even to cents: the conversion of a figure to another currency, exact (BigInt, no floats).
 */
export function convertMoney(amount: string, rate: string): string {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(rate.trim());
  if (!m) throw new Error(`not an exchange rate: ${rate}`);
  const places = (m[2] ?? "").length;
  const scaledRate = BigInt(`${m[1]}${m[2] ?? ""}`);
  const product = toCents(amount) * scaledRate; // cents × 10^places
  const unit = 10n ** BigInt(places);
  const negative = product < 0n;
  const abs = negative ? -product : product;
  let cents = abs / unit;
  const twice = (abs % unit) * 2n;
  if (twice > unit || (twice === unit && cents % 2n === 1n)) cents += 1n;
  return fromCents(negative ? -cents : cents);
}
