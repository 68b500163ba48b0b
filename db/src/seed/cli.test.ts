/** `npm run seed` as a user runs it, against a fresh test database. */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";

const run = promisify(execFile);
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "cli.ts");
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

async function seed(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", cli, ...args], {
      env: { ...process.env, DATABASE_URL: t.url },
    });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("npm run seed", () => {
  it("loads a scaled firm, prints the figures, refuses to load twice, and --reset reloads", async () => {
    const first = await seed("--scale", "2");
    expect(first.code, first.out).toBe(0);
    expect(first.out, first.out).toMatch(/customer\s+50\n/);
    expect(first.out).toMatch(/seeded scale 2: [\d,]+ rows in [\d.]+ s/);
    const [{ n }] = (await t.sql`select count(*)::int as n from contract`) as unknown as [
      { n: number },
    ];
    expect(n).toBeGreaterThan(40);

    const again = await seed("--scale", "2");
    expect(again.code).toBe(1);
    expect(again.out).toContain("the database already has customers; seed with --reset");

    const reset = await seed("--reset");
    expect(reset.code).toBe(0);
    const [{ customers }] = (await t.sql`
      select count(*)::int as customers from customer`) as unknown as [{ customers: number }];
    expect(customers).toBe(25);
  });

  it("rejects a bad --scale with one line", async () => {
    const bad = await seed("--scale", "lots");
    expect(bad.code).toBe(2);
    expect(bad.out.trim()).toBe('--scale must be a number between 0 and 1000, got "lots"');
  });
});
