import { describe, expect, it } from "vitest";
import { parseFxRatesCsv } from "./fx-rates.ts";

describe("rates file", () => {
  it("reads the CSV in any column order, skipping blanks and comments", () => {
    const rates = parseFxRatesCsv(
      "# month-end rates\ncurrency,base_currency,effective_date,rate\nEUR,USD,2026-11-02,1.0823\n\nGBP,USD,2026-11-03,1.2671\n",
    );
    expect(rates).toEqual([
      { baseCurrency: "USD", currency: "EUR", rate: "1.0823", effectiveDate: "2026-11-02" },
      { baseCurrency: "USD", currency: "GBP", rate: "1.2671", effectiveDate: "2026-11-03" },
    ]);
  });

  it("names the first bad row and field", () => {
    expect(() =>
      parseFxRatesCsv(
        "base_currency,currency,rate,effective_date\nUSD,EUR,1.08,2026-11-02\nUSD,eur,1.1,2026-11-03",
      ),
    ).toThrow(/fx rate 2: currency: an ISO 4217 code/);
    expect(() =>
      parseFxRatesCsv("base_currency,currency,rate,effective_date\nUSD,EUR,0,2026-11-02"),
    ).toThrow(/fx rate 1: rate: greater than 0/);
    expect(() =>
      parseFxRatesCsv("base_currency,currency,rate,effective_date\nUSD,EUR,1.2e3,2026-11-02"),
    ).toThrow(/fx rate 1: rate/);
    expect(() => parseFxRatesCsv("base,currency,rate,effective_date\n")).toThrow(
      /no base_currency column/,
    );
  });
});
