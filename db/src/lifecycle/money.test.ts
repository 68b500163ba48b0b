import { describe, expect, it } from "vitest";
import { addMoney, fromCents, isZero, toCents } from "./money.ts";

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
