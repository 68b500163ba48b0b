import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "./migrate.ts";
import { createTestDatabase, type TestDatabase } from "./testing/index.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe("migrations", () => {
  it("are idempotent: applying them again changes nothing", async () => {
    const before = await t.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    await runMigrations(t.url);
    const after = await t.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(before[0]?.n).toBeGreaterThanOrEqual(2);
  });

  it("money round-trips exactly: 0.10 + 0.20 is 0.30 in SQL numeric", async () => {
    const rows = await t.db.execute<{ s: string }>(
      sql`select (x.a + x.b)::numeric(18,2)::text as s from (values (0.10::numeric(18,2), 0.20::numeric(18,2))) as x(a, b)`,
    );
    expect(rows[0]?.s).toBe("0.30");
  });
});
