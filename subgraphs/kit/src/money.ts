/**
 * Money values for GraphQL `Money { amount, currency }`. Arithmetic on amounts lives in one place,
 * @pshub/db (`addMoney`, `subtractMoney`, `multiplyMoney`: integer cents, never a JS float).
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
