import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { fromCents } from "./money.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

/** Half-to-even of n / 10^4 to cents, in BigInt: the reference for the SQL function. */
function reference(n: bigint): string {
  const sign = n < 0n ? -1n : 1n;
  const abs = n * sign;
  const cents = abs / 100n;
  const rest = abs % 100n;
  const rounded = rest > 50n || (rest === 50n && cents % 2n === 1n) ? cents + 1n : cents;
  return fromCents(rounded * sign);
}

describe("pshub_round_half_even (SQL)", () => {
  it("matches banker's rounding for any 4-decimal value", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }), {
          minLength: 1,
          maxLength: 200,
        }),
        async (values) => {
          const text = values.map(
            (v) => `${v < 0n ? "-" : ""}${fromCents(v < 0n ? -v : v).replace(".", "")}`,
          );
          const rows = await t.sql<{ r: string }[]>`
            select pshub_round_half_even(x::numeric / 10000, 2)::text as r
            from unnest(${text}::text[]) with ordinality as u(x, i) order by i`;
          expect(rows.map((r) => r.r.replace(/^-0\.00$/, "0.00"))).toEqual(values.map(reference));
        },
      ),
      { numRuns: 30, seed: 7 },
    );
  });

  it("rounds ties to even, both signs", async () => {
    const [row] = await t.sql`
      select pshub_round_half_even(2.345)::text as a, pshub_round_half_even(2.355)::text as b,
        pshub_round_half_even(-2.345)::text as c, pshub_round_half_even(0.505)::text as d,
        pshub_round_half_even(2.5, 0)::text as e`;
    expect(row).toEqual({ a: "2.34", b: "2.36", c: "-2.34", d: "0.50", e: "2" });
  });
});
