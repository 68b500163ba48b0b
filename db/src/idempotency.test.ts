import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "./errors.ts";
import { canonicalJson, requestHash, withIdempotency } from "./idempotency.ts";
import { createTestDatabase, type TestDatabase } from "./testing/index.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ max: 25 });
  await t.sql`create table effect (id serial primary key, note text)`;
});
afterAll(async () => {
  await t?.drop();
});

async function run(key: string | null, request: unknown, principal = "alice", operation = "op") {
  return t.db.transaction((tx) =>
    withIdempotency(tx, { key, principal, operation, request }, async () => {
      const [row] = await tx.execute<{ id: number }>(
        sql`insert into effect (note) values (${JSON.stringify(request)}) returning id`,
      );
      return { effectId: row!.id, at: new Date("2026-01-02T03:04:05.000Z") };
    }),
  );
}

const effects = async () => (await t.sql`select count(*)::int as n from effect`)[0]!.n as number;

describe("withIdempotency", () => {
  it("hashes requests canonically (key order does not matter)", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(requestHash("op", { a: 1, b: 2 })).toBe(requestHash("op", { b: 2, a: 1 }));
    expect(requestHash("op", { a: 1 })).not.toBe(requestHash("other", { a: 1 }));
  });

  it("without a key, runs every time", async () => {
    const before = await effects();
    await run(null, { x: 1 });
    await run(null, { x: 1 });
    expect(await effects()).toBe(before + 2);
  });

  it("same key + same request returns the stored response once, with dates revived", async () => {
    const before = await effects();
    const first = await run("k1", { x: 1, y: "a" });
    const second = await run("k1", { y: "a", x: 1 });
    expect(first.replayed).toBe(false);
    expect(second.replayed).toBe(true);
    expect(second.value).toEqual(first.value);
    expect(second.value.at).toBeInstanceOf(Date);
    expect(await effects()).toBe(before + 1);
  });

  it("same key + different request fails with IDEMPOTENCY_MISMATCH and changes nothing", async () => {
    await run("k2", { x: 1 });
    const before = await effects();
    await expect(run("k2", { x: 2 })).rejects.toMatchObject({ code: "IDEMPOTENCY_MISMATCH" });
    await expect(run("k2", { x: 1 }, "alice", "another-op")).rejects.toBeInstanceOf(DomainError);
    expect(await effects()).toBe(before);
  });

  it("keys are per principal", async () => {
    const a = await run("k3", { x: 1 }, "alice");
    const b = await run("k3", { x: 1 }, "bob");
    expect(b.replayed).toBe(false);
    expect(b.value.effectId).not.toBe(a.value.effectId);
  });

  it("keeps keys at least 24 hours, and treats an expired key as new", async () => {
    await run("k4", { x: 1 });
    const [row] = await t.sql`
      select extract(epoch from expires_at - created_at)::int as ttl from idempotency_key where key = 'k4'`;
    expect(row!.ttl).toBeGreaterThanOrEqual(24 * 3600);
    await t.sql`update idempotency_key set expires_at = now() - interval '1 second' where key = 'k4'`;
    const again = await run("k4", { x: 2 });
    expect(again.replayed).toBe(false);
  });

  it("a failed operation stores nothing: the key can be retried", async () => {
    await expect(
      t.db.transaction((tx) =>
        withIdempotency(tx, { key: "k5", principal: "alice", operation: "op", request: {} }, () => {
          throw new Error("boom");
        }),
      ),
    ).rejects.toThrow("boom");
    const retried = await run("k5", {});
    expect(retried.replayed).toBe(false);
  });

  it("20 concurrent calls with one key take effect once", async () => {
    const before = await effects();
    const results = await Promise.all(Array.from({ length: 20 }, () => run("k6", { n: 6 })));
    expect(await effects()).toBe(before + 1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.value.effectId)).size).toBe(1);
  });
});
