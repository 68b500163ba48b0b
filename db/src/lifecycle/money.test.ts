import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addMoney,
  convertMoney,
  fromCents,
  isZero,
  multiplyMoney,
  subtractMoney,
  toCents,
} from "./money.ts";

describe("money in integer cents", () => {
  it("parses and prints decimal strings exactly", () => {
    expect(toCents("12.3")).toBe(1230n);
    expect(toCents("-0.05")).toBe(-5n);
    expect(fromCents(1230n)).toBe("12.30");
    expect(fromCents(-5n)).toBe("-0.05");
    expect(addMoney("0.10", "0.20")).toBe("0.30");
    expect(addMoney("9999999999999999.99", "0.01")).toBe("10000000000000000.00");
    expect(isZero("0.00")).toBe(true);
    expect(isZero("0.01")).toBe(false);
    expect(() => toCents("1.234")).toThrow(/not a money amount/);
  });
});

describe("money arithmetic", () => {
  it("multiplies exactly and rounds half to even", () => {
    expect(multiplyMoney("7.50", "150.00")).toBe("1125.00");
    expect(multiplyMoney("0.10", "0.10")).toBe("0.01");
    expect(multiplyMoney("0.05", "0.10")).toBe("0.00"); // 0.005 → 0.00 (even)
    expect(multiplyMoney("0.15", "0.10")).toBe("0.02"); // 0.015 → 0.02 (even)
    expect(multiplyMoney("1.50", "0.99")).toBe("1.48"); // 1.485 → 1.48
    expect(multiplyMoney("0.06", "0.10")).toBe("0.01");
    expect(multiplyMoney("-0.15", "0.10")).toBe("-0.02");
    expect(multiplyMoney("24", "999999999999.99")).toBe("23999999999999.76");
  });

  it("sums exactly where floats would not", () => {
    expect(addMoney("0.10", "0.20")).toBe("0.30");
    expect(addMoney()).toBe("0.00");
    expect(addMoney("-1.5", "1")).toBe("-0.50");
  });

  it("agrees with a half-to-even reference for any amounts", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_00 }),
        fc.integer({ min: 0, max: 2400 }),
        (cents, hundredths) => {
          const a = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
          const b = `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, "0")}`;
          const exact = BigInt(cents) * BigInt(hundredths); // scale 4
          // half-to-even: compare twice the sub-cent remainder with one cent
          const floor = exact / 100n;
          const twice = 2n * (exact % 100n);
          const rounded =
            twice > 100n || (twice === 100n && floor % 2n === 1n) ? floor + 1n : floor;
          expect(multiplyMoney(a, b)).toBe(
            `${rounded / 100n}.${String(rounded % 100n).padStart(2, "0")}`,
          );
        },
      ),
    );
  });

  it("subtracts exactly", () => {
    expect(subtractMoney("100.00", "33.33")).toBe("66.67");
    expect(subtractMoney("0.30", "0.10")).toBe("0.20");
  });
});

describe("convertMoney (amount × exchange rate, half-even to cents)", () => {
  it("is exact and rounds ties to even", () => {
    expect(convertMoney("100.00", "1.0823")).toBe("108.23");
    expect(convertMoney("0.05", "0.5")).toBe("0.02"); // 0.025 → 0.02 (even)
    expect(convertMoney("0.15", "0.5")).toBe("0.08"); // 0.075 → 0.08 (even)
    expect(convertMoney("-0.15", "0.5")).toBe("-0.08");
    expect(convertMoney("12710.70", "0.9239582371")).toBe("11744.16");
    expect(convertMoney("9999999999999999.99", "1")).toBe("9999999999999999.99");
    expect(() => convertMoney("1.00", "-1")).toThrow(/exchange rate/);
  });

  it("equals multiplyMoney for rates with two places", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        (a, r) => {
          const amount = fromCents(a);
          const rate = fromCents(r);
          expect(convertMoney(amount, rate)).toBe(multiplyMoney(amount, rate));
        },
      ),
    );
  });
});
