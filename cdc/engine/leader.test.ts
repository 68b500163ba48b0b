/**
 * Two engines on one database: exactly one polls each (connector, object); when the leader's
 * session dies, the other takes over. Real Postgres, real advisory locks.
 */
import { createLogger } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SyncEngine } from "./engine.ts";
import type { Connector } from "./types.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

function counting(name: string, polls: string[]): Connector {
  return {
    name: "fake",
    system: "ERP",
    objects: ["thing"],
    mappers: [],
    pollIntervalMs: 20,
    async pollOnce() {
      polls.push(name);
      return { records: 0, more: false };
    },
    fetchOne: async () => undefined,
    stop: async () => {},
  };
}

const waitFor = async (check: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

it("one poller per (connector, object) across two engines; the follower takes over", async () => {
  const logger = createLogger("test", "silent");
  const polls: string[] = [];
  const a = new SyncEngine({
    client: t,
    databaseUrl: t.url,
    connectors: [counting("a", polls)],
    logger,
    leaderRetryMs: 50,
    processName: "a",
  });
  const b = new SyncEngine({
    client: t,
    databaseUrl: t.url,
    connectors: [counting("b", polls)],
    logger,
    leaderRetryMs: 50,
    processName: "b",
  });
  try {
    await a.start();
    await waitFor(() => polls.length > 0);
    await b.start();
    await waitFor(() => polls.length > 20);
    expect(new Set(polls)).toEqual(new Set(["a"]));
    expect(a.leading()).toEqual(["fake:thing"]);
    expect(b.leading()).toEqual([]);
    const [row] = await t.db.execute<{ leader: string }>(
      sql`select leader from sync_cursor where connector = 'fake'`,
    );
    expect(row?.leader).toBe("a");
    // The leader's lock connection dies (as with kill -9): PostgreSQL frees the lock.
    await t.db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity
      where application_name = 'pshub-cdc-leader' and datname = current_database()
        and pid in (select pid from pg_locks where locktype = 'advisory' and granted)`);
    // A killed process does not come back: stop a's loops too, or its reconnecting session
    // may win the freed lock again before b's next attempt (a race the full suite's load exposed).
    const aStopped = a.stop();
    const before = polls.length;
    await waitFor(() => polls.slice(before).includes("b"));
    await aStopped;
    expect(a.leading()).toEqual([]);
    const after = polls.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(polls.length).toBeGreaterThan(after);
    expect(new Set(polls.slice(after))).toEqual(new Set(["b"]));
  } finally {
    await a.stop();
    await b.stop();
  }
});

it("a long poll loop and rapid inbox wake-ups leave no abort listeners behind (no MaxListenersExceededWarning)", async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  const polls: string[] = [];
  // `more: true` makes the loop go round at once: hundreds of iterations under one lock.
  const busy: Connector = {
    ...counting("busy", polls),
    async pollOnce() {
      polls.push("busy");
      return { records: 0, more: polls.length < 300 };
    },
  };
  const engine = new SyncEngine({
    client: t,
    databaseUrl: t.url,
    connectors: [busy],
    logger: createLogger("test", "silent"),
    leaderRetryMs: 50,
    processName: "busy",
  });
  try {
    await engine.start();
    await waitFor(() => polls.length >= 300, 30_000);
    // Inbox wake-ups in quick succession: each ends the applier's wait early.
    for (let i = 0; i < 40; i++) {
      await t.db.execute(sql`select pg_notify('pshub_inbox', 'test')`);
      await new Promise((r) => setTimeout(r, 5));
    }
    // Warnings are emitted on the next tick.
    await new Promise((r) => setTimeout(r, 50));
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  } finally {
    process.off("warning", onWarning);
    await engine.stop();
  }
});

it("a connector's objects start in their listed order: a child object polls only after its parent object caught up", async () => {
  const logger = createLogger("test", "silent");
  const polls: string[] = [];
  let parentPages = 0;
  const connector: Connector = {
    name: "ordered",
    system: "ERP",
    objects: ["parent", "child"],
    mappers: [],
    pollIntervalMs: 20,
    async pollOnce(object) {
      polls.push(object);
      // The parent's full load: three pages with more to come, then caught up.
      if (object === "parent") return { records: 0, more: ++parentPages < 4 };
      return { records: 0, more: false };
    },
    fetchOne: async () => undefined,
    stop: async () => {},
  };
  const engine = new SyncEngine({
    client: t,
    databaseUrl: t.url,
    connectors: [connector],
    logger,
    leaderRetryMs: 50,
    processName: "ordered",
  });
  try {
    await engine.start();
    await waitFor(() => polls.includes("child"));
    expect(polls.slice(0, 5)).toEqual(["parent", "parent", "parent", "parent", "child"]);
  } finally {
    await engine.stop();
  }
});
