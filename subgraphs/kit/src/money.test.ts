import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { money, multiplyDecimal, sumDecimal } from "./money.ts";

describe("money", () => {
  it("multiplies exactly and rounds half away from zero", () => {
    expect(multiplyDecimal("7.50", "150.00")).toBe("1125.00");
    expect(multiplyDecimal("0.10", "0.10")).toBe("0.01");
    expect(multiplyDecimal("0.05", "0.10")).toBe("0.01"); // 0.005 → 0.01
    expect(multiplyDecimal("0.04", "0.10")).toBe("0.00");
    expect(multiplyDecimal("-0.05", "0.10")).toBe("-0.01");
    expect(multiplyDecimal("24", "999999999999.99")).toBe("23999999999999.76");
  });

  it("sums exactly where floats would not", () => {
    expect(sumDecimal(["0.10", "0.20"])).toBe("0.30");
    expect(sumDecimal([])).toBe("0.00");
    expect(sumDecimal(["-1.5", "1"])).toBe("-0.50");
  });

  it("agrees with integer-cent arithmetic for any amounts", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_00 }),
        fc.integer({ min: 0, max: 2400 }),
        (cents, hundredths) => {
          const a = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
          const b = `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, "0")}`;
          const exact = BigInt(cents) * BigInt(hundredths); // scale 4
          const rounded = (exact + 50n) / 100n;
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
