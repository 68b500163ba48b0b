import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { money, multiplyDecimal, sumDecimal } from "./money.ts";

describe("money", () => {
  it("multiplies exactly and rounds half to even", () => {
    expect(multiplyDecimal("7.50", "150.00")).toBe("1125.00");
    expect(multiplyDecimal("0.10", "0.10")).toBe("0.01");
    expect(multiplyDecimal("0.05", "0.10")).toBe("0.00"); // 0.005 → 0.00 (even)
    expect(multiplyDecimal("0.15", "0.10")).toBe("0.02"); // 0.015 → 0.02 (even)
    expect(multiplyDecimal("1.50", "0.99")).toBe("1.48"); // 1.485 → 1.48
    expect(multiplyDecimal("0.06", "0.10")).toBe("0.01");
    expect(multiplyDecimal("-0.15", "0.10")).toBe("-0.02");
    expect(multiplyDecimal("24", "999999999999.99")).toBe("23999999999999.76");
  });

  it("sums exactly where floats would not", () => {
    expect(sumDecimal(["0.10", "0.20"])).toBe("0.30");
    expect(sumDecimal([])).toBe("0.00");
    expect(sumDecimal(["-1.5", "1"])).toBe("-0.50");
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
          expect(multiplyDecimal(a, b)).toBe(
            `${rounded / 100n}.${String(rounded % 100n).padStart(2, "0")}`,
          );
        },
      ),
    );
  });

  it("builds Money, null for a null amount, trims char(3) padding", () => {
    expect(money("1.00", "EUR")).toEqual({ amount: "1.00", currency: "EUR" });
    expect(money(null, "EUR")).toBeNull();
  });
});
