import { describe, expect, it } from "vitest";
import { money } from "./money.ts";

describe("money", () => {
  it("builds Money, null for a null amount, trims char(3) padding", () => {
    expect(money("1.00", "EUR")).toEqual({ amount: "1.00", currency: "EUR" });
    expect(money(null, "EUR")).toBeNull();
  });
});
