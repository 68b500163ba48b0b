/**
 * The pool survives losing its connections: every backend of this test's database is terminated
 * (pg_terminate_backend, what a server restart does to them), and the next read and the next
 * transaction succeed on fresh connections, each exactly once; a lone write that may have reached
 * the server is not replayed but answered as DatabaseUnavailableError.
 */
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { isReadOnlyStatement } from "./client.ts";
import { DatabaseUnavailableError, isConnectionError } from "./errors.ts";
import { createTestDatabase, type TestDatabase } from "./testing/index.ts";

let t: TestDatabase;
let admin: postgres.Sql;
const retries: unknown[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ max: 4, onRetry: (_attempt, error) => retries.push(error) });
  admin = postgres(inject("pshubServerUrl"), { max: 1, onnotice: () => {} });
  await t.db.execute(sql`create table probe (id serial primary key, note text not null)`);
});
afterAll(async () => {
  await admin?.end({ timeout: 5 });
  await t?.drop();
});

/** Terminates every connection to this test's database (only this one: others share the server). */
async function terminateAll(): Promise<number> {
  // Several pooled connections, all open before the terminate.
  await Promise.all(Array.from({ length: 4 }, () => t.db.execute(sql`select pg_sleep(0.05)`)));
  const killed = await admin<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = ${t.name} and pid <> pg_backend_pid()`;
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${t.name} and pid <> pg_backend_pid()`;
  return killed.length;
}

describe("a pool whose connections were all terminated", () => {
  it("runs the next read on a fresh connection, after a retry, without an error", async () => {
    expect(await terminateAll()).toBeGreaterThanOrEqual(2);
    retries.length = 0;
    const started = Date.now();
    const rows = await t.db.execute(sql`select 41 + 1 as answer`);
    expect(rows[0]).toEqual({ answer: 42 });
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries.every(isConnectionError)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("runs a transaction that never committed again, once: its row is there exactly once", async () => {
    await terminateAll();
    retries.length = 0;
    const note = `payment-${Date.now()}`;
    const id = await t.db.transaction(async (tx) => {
      const [row] = await tx.execute<{ id: number }>(
        sql`insert into probe (note) values (${note}) returning id`,
      );
      return row?.id;
    });
    expect(id).toBeGreaterThan(0);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    const [count] = await t.db.execute<{ n: number }>(
      sql`select count(*)::int as n from probe where note = ${note}`,
    );
    expect(count?.n).toBe(1);
  });

  it("does not replay a lone write on a dead connection: DatabaseUnavailableError, retryable", async () => {
    await terminateAll();
    retries.length = 0;
    const error = await t.db.execute(sql`insert into probe (note) values ('lone write')`).then(
      () => undefined,
      (e: unknown) => e,
    );
    // Either the first connection it met was already known dead (then it simply succeeded on a
    // fresh one — postgres.js had seen the close) or it failed and was not retried.
    if (error !== undefined) {
      // drizzle wraps it ("Failed query: …"), with ours as the cause.
      expect((error as Error).cause).toBeInstanceOf(DatabaseUnavailableError);
      expect(isConnectionError(error)).toBe(true);
      expect(retries).toHaveLength(0);
    }
    // A read through the pool: retried past any connection that is still dead.
    const [count] = await t.db.execute<{ n: number }>(
      sql`select count(*)::int as n from probe where note = 'lone write'`,
    );
    expect(count?.n).toBeLessThanOrEqual(1);
  });

  it("tells reads from writes", () => {
    expect(isReadOnlyStatement('select "id" from "invoice" where "id" = $1')).toBe(true);
    expect(isReadOnlyStatement("with x as (select 1) select * from x")).toBe(false);
    expect(isReadOnlyStatement('select * from "invoice" for update')).toBe(false);
    expect(isReadOnlyStatement("select nextval('invoice_number_seq')")).toBe(false);
    expect(isReadOnlyStatement('insert into "probe" ("note") values ($1)')).toBe(false);
    expect(isReadOnlyStatement('update "invoice" set "status" = $1')).toBe(false);
  });
});

describe("onStatement", () => {
  it("sees each statement with its parameters as it is sent, and hears when its rows are back", async () => {
    const seen: { query: string; params: unknown[] | undefined; doneAt?: number }[] = [];
    const traced = await createTestDatabase({
      max: 1,
      onStatement: (query, params) => {
        const entry: (typeof seen)[number] = { query, params };
        seen.push(entry);
        return () => {
          entry.doneAt = performance.now();
        };
      },
    });
    try {
      const before = seen.length;
      const sent = performance.now();
      const [row] = await traced.db.execute<{ n: number }>(sql`select ${41}::int + 1 as n`);
      const back = performance.now();
      expect(row?.n).toBe(42);
      const mine = seen.slice(before);
      expect(mine).toHaveLength(1);
      expect(mine[0]?.query).toContain("+ 1 as n");
      expect(mine[0]?.params).toEqual([41]);
      expect(mine[0]?.doneAt).toBeGreaterThanOrEqual(sent);
      expect(mine[0]?.doneAt).toBeLessThanOrEqual(back);
    } finally {
      await traced.drop();
    }
  });
});
