/** `npm run fx-rates -- <file>` as a user runs it, against a fresh test database. */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./testing/index.ts";

const run = promisify(execFile);
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "fx-rates-cli.ts");
let t: TestDatabase;
let dir: string;

beforeAll(async () => {
  t = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), "pshub-fx-rates-"));
});
afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function load(name: string, text: string): Promise<{ code: number; out: string }> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", cli, file], {
      env: { ...process.env, DATABASE_URL: t.url },
    });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

const stored = async () =>
  (await t.sql`select base_currency::text as base, currency::text as currency, rate::text as rate,
      effective_date::text as day, source::text as source from fx_rate order by 1, 2, 4`) as unknown as {
    base: string;
    currency: string;
    rate: string;
    day: string;
    source: string;
  }[];

describe("npm run fx-rates", () => {
  it("loads a rates file exactly, as source FILE, and a second load of the same file changes nothing", async () => {
    const text =
      "# month-end rates\ncurrency,base_currency,effective_date,rate\nEUR,USD,2026-11-02,1.0823\nGBP,USD,2026-11-02,1.2671000001\n";
    const first = await load("rates.csv", text);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain("loaded 2 rates");
    expect(first.out).toContain("2 new or changed");
    expect(await stored()).toEqual([
      { base: "USD", currency: "EUR", rate: "1.0823000000", day: "2026-11-02", source: "FILE" },
      { base: "USD", currency: "GBP", rate: "1.2671000001", day: "2026-11-02", source: "FILE" },
    ]);
    const again = await load("rates.csv", text);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain("0 new or changed");
  }, 60_000);

  it("a bad file is one clear error naming the row and field, and loads nothing", async () => {
    const before = await stored();
    const cases: [string, string, RegExp][] = [
      [
        "bad-currency.csv",
        "base_currency,currency,rate,effective_date\nUSD,CHF,0.91,2026-11-03\nUSD,yen,150,2026-11-03\n",
        /bad-currency\.csv: fx rate 2: currency: an ISO 4217 code .*; nothing loaded/,
      ],
      [
        "float.csv",
        "base_currency,currency,rate,effective_date\nUSD,CHF,9.1e-1,2026-11-03\n",
        /float\.csv: fx rate 1: rate: a positive decimal.*; nothing loaded/,
      ],
      [
        "no-header.csv",
        "USD,CHF,0.91,2026-11-03\n",
        /no-header\.csv: rates file: no base_currency column .*; nothing loaded/,
      ],
      [
        "twice.csv",
        "base_currency,currency,rate,effective_date\nUSD,CHF,0.91,2026-11-03\nUSD,CHF,0.92,2026-11-03\n",
        /twice\.csv: fx rate 2: CHF in USD on 2026-11-03 is also fx rate 1; nothing loaded/,
      ],
      ["empty.csv", "base_currency,currency,rate,effective_date\n", /no rates in the file/],
    ];
    for (const [name, text, message] of cases) {
      const result = await load(name, text);
      expect(result.code, name).toBe(1);
      expect(result.out.trim(), name).toMatch(message);
      // One line, no stack trace.
      expect(result.out.trim().split("\n"), name).toHaveLength(1);
    }
    const missing = await run(
      process.execPath,
      ["--import", "tsx", cli, path.join(dir, "none.csv")],
      {
        env: { ...process.env, DATABASE_URL: t.url },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect((missing as { code: number }).code).toBe(1);
    expect((missing as { stderr: string }).stderr).toMatch(/ENOENT.*nothing loaded/);
    expect(await stored()).toEqual(before);
  }, 60_000);
});
