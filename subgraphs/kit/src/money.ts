/**
 * Money values for GraphQL `Money { amount, currency }`, and exact decimal arithmetic in integer
 * units via BigInt (never a JS float).
 */

export interface Money {
  amount: string;
  currency: string;
}

/** Money from an amount column and a currency column; null when the amount is null. */
export function money(amount: string, currency: string): Money;
export function money(amount: string | null | undefined, currency: string): Money | null;
export function money(amount: string | null | undefined, currency: string): Money | null {
  return amount == null ? null : { amount, currency: currency.trim() };
}

function toUnits(value: string, scale: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new Error(`not a decimal: ${JSON.stringify(value)}`);
  const [, sign, whole, frac = ""] = match;
  if (frac.length > scale) throw new Error(`${value} has more than ${scale} decimals`);
  const units = BigInt(whole! + frac.padEnd(scale, "0"));
  return sign === "-" ? -units : units;
}

function fromUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${negative ? "-" : ""}${whole}${scale ? `.${frac}` : ""}`;
}

/**
 * a × b for two decimals with up to 2 places, rounded to cents half-to-even — the hub's rounding
 * rule for products (SQL `pshub_round_half_even`, see db/src/lifecycle/money.ts), so a time
 * entry's amount equals the amount of the billing event that bills it.
 */
export function multiplyDecimal(a: string, b: string): string {
  const product = toUnits(a, 2) * toUnits(b, 2); // scale 4
  const negative = product < 0n;
  const abs = negative ? -product : product;
  let cents = abs / 100n;
  const remainder = abs % 100n;
  if (remainder > 50n || (remainder === 50n && cents % 2n === 1n)) cents += 1n;
  return fromUnits(negative ? -cents : cents, 2);
}

/** Sum of decimals with up to 2 places, exact. */
export function sumDecimal(values: readonly string[]): string {
  return fromUnits(
    values.reduce((sum, v) => sum + toUnits(v, 2), 0n),
    2,
  );
}
