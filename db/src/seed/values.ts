/** Money and date helpers for the seed: money in integer cents (BigInt), dates as YYYY-MM-DD. */

/** "123.45" → 12345n. */
export function toCents(decimal: string): bigint {
  const negative = decimal.startsWith("-");
  const [whole = "0", fraction = ""] = decimal.replace("-", "").split(".");
  const cents = BigInt(whole) * 100n + BigInt(`${fraction}00`.slice(0, 2));
  return negative ? -cents : cents;
}

/** 12345n → "123.45". */
export function fromCents(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const text = `${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
  return negative ? `-${text}` : text;
}

/** quantity × rate, both with two decimals, rounded half up to cents. */
export function multiply(quantity: string, rate: string): bigint {
  return (toCents(quantity) * toCents(rate) + 50n) / 100n;
}

/** amount × a four-decimal rate such as "0.0888", rounded half to even to cents. */
export function applyRateHalfEven(cents: bigint, rate: string): bigint {
  const [whole = "0", fraction = ""] = rate.split(".");
  const rate4 = BigInt(whole) * 10_000n + BigInt(`${fraction}0000`.slice(0, 4));
  const product = cents * rate4;
  const quotient = product / 10_000n;
  const remainder = product % 10_000n;
  if (remainder > 5_000n || (remainder === 5_000n && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

const DAY = 86_400_000;

export function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY);
}

export function fromDayNumber(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromDayNumber(dayNumber(date) + days);
}

export function isWeekday(day: number): boolean {
  const weekday = new Date(day * DAY).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/** "2026-10-14" → "2026-10". */
export function monthOf(date: string): string {
  return date.slice(0, 7);
}

/** "2026-10" → "2026-09". */
export function previousMonth(month: string): string {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) + months;
  const month = String((index % 12) + 1).padStart(2, "0");
  const last = Number(lastDayOfMonth(`${Math.floor(index / 12)}-${month}`).slice(8));
  return `${Math.floor(index / 12)}-${month}-${String(Math.min(d, last)).padStart(2, "0")}`;
}

/** "2026-02" → "2026-02-28". */
export function lastDayOfMonth(month: string): string {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** A timestamp on `date` at `hour`:`minute` UTC, as ISO-8601. */
export function at(date: string, hour = 9, minute = 0): string {
  return `${date}T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}:00+00`;
}
