import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sql } from "../client.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { type DomainEventRecord, type EventStream, OutboxReader } from "./reader.ts";

let t: TestDatabase;
const readers: OutboxReader[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ max: 12 });
});
afterAll(async () => {
  await Promise.all(readers.map((r) => r.close()));
  await t?.drop();
});

async function startReader(options: Partial<ConstructorParameters<typeof OutboxReader>[0]> = {}) {
  const reader = new OutboxReader({
    sql: t.sql,
    url: t.url,
    listenerName: `outbox-${randomUUID().slice(0, 8)}`,
    holeGraceMs: 50,
    ...options,
  });
  readers.push(reader);
  await reader.start();
  return reader;
}

async function insertEvent(sql: Sql, type = "invoice.status_changed", entityId = randomUUID()) {
  const [row] = await sql<{ id: string }[]>`
    insert into domain_event (type, entity_type, entity_id, actor, payload)
    values (${type}, ${type.split(".")[0]!}, ${entityId}, 'test', ${JSON.stringify({ to: "ISSUED" })}::jsonb)
    returning id`;
  return Number(row!.id);
}

/** Collects `count` events from a stream, or fails after `ms`. */
async function take(stream: EventStream, count: number, ms = 10_000) {
  const got: DomainEventRecord[] = [];
  const timer = setTimeout(() => stream.close(), ms);
  for await (const event of stream) {
    got.push(event);
    if (got.length === count) break;
  }
  clearTimeout(timer);
  return got;
}

/** Resolves with the events that arrive within `ms` (and closes the stream). */
async function drainFor(stream: EventStream, ms: number) {
  const got: DomainEventRecord[] = [];
  const timer = setTimeout(() => stream.close(), ms);
  for await (const event of stream) got.push(event);
  clearTimeout(timer);
  return got;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("OutboxReader", () => {
  it("delivers 1,000 rapid concurrent inserts completely, once each, in id order", async () => {
    const reader = await startReader();
    const stream = reader.subscribe();
    const collecting = take(stream, 1000, 30_000);
    const inserted: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < 100; i++) inserted.push(await insertEvent(t.sql));
      }),
    );
    const got = (await collecting).map((e) => e.id);
    expect(got).toHaveLength(1000);
    expect(got).toEqual([...inserted].sort((a, b) => a - b));
  });

  it("does not pass over an id held by a transaction still in flight (the outbox gap)", async () => {
    const reader = await startReader();
    const stream = reader.subscribe();
    const older = await t.sql.reserve();
    const younger = await t.sql.reserve();
    try {
      // `older` takes its xid first, `younger` takes the smaller event id, `older` commits first.
      await older.unsafe("begin");
      await older`select pg_current_xact_id()`;
      await younger.unsafe("begin");
      const held = await insertEvent(younger);
      const passed = await insertEvent(older);
      await older.unsafe("commit");
      expect(passed).toBeGreaterThan(held);

      // xids are inverted against ids: `passed` has the larger id but the older xid, so the
      // naive rule (tx_id below the snapshot's xmin, id > last) would deliver it and lose `held`.
      const [mine] = await younger<{ xid: string }[]>`select pg_current_xact_id()::text as xid`;
      const [theirs] = await t.sql<{ xid: string }[]>`
        select tx_id::text as xid from domain_event where id = ${passed}`;
      expect(BigInt(theirs!.xid)).toBeLessThan(BigInt(mine!.xid));

      // We hold it back: strict id order, nothing passed over.
      const early = reader.subscribe({ afterEventId: held - 1 });
      const none = await drainFor(early, 400);
      expect(none).toEqual([]);

      await younger.unsafe("commit");
      const got = await take(stream, 2);
      expect(got.map((e) => e.id)).toEqual([held, passed]);
    } finally {
      for (const c of [older, younger]) {
        await c.unsafe("rollback").catch(() => {});
        c.release();
      }
    }
  });

  it.each(["transactions", "fence"] as const)(
    "skips a hole left by a rolled-back transaction once it is over (%s rule)",
    async (holeRule) => {
      const reader = await startReader({ holeRule });
      const stream = reader.subscribe();
      const a = await t.sql.reserve();
      try {
        await a.unsafe("begin");
        const lost = await insertEvent(a);
        const kept = await insertEvent(t.sql);
        const none = await drainFor(reader.subscribe(), 300);
        expect(none).toEqual([]);
        await a.unsafe("rollback");
        // The fence waits for the cluster-wide xmin: another database's long transaction delays it.
        const got = await take(stream, 1, holeRule === "fence" ? 30_000 : 5000);
        expect(got.map((e) => e.id)).toEqual([kept]);
        expect(kept).toBeGreaterThan(lost);
        expect(reader.statistics.holesSkipped).toBeGreaterThanOrEqual(1);
      } finally {
        await a.unsafe("rollback").catch(() => {});
        a.release();
      }
    },
  );

  it("random interleavings with slow commits and rollbacks: exactly the committed rows, in id order", async () => {
    const [top] = await t.sql<
      { max: string | null }[]
    >`select max(id)::text as max from domain_event`;
    const start = Number(top?.max ?? 0);
    const reader = await startReader();
    const stream = reader.subscribe();
    const got: number[] = [];
    const collecting = (async () => {
      for await (const e of stream) got.push(e.id);
    })();
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const c = await t.sql.reserve();
        try {
          for (let i = 0; i < 25; i++) {
            await c.unsafe("begin");
            if (random() < 0.5) await c`select pg_current_xact_id()`; // xid before the ids
            await sleep(random() * 10);
            const n = 1 + Math.floor(random() * 3);
            for (let k = 0; k < n; k++) await insertEvent(c);
            await sleep(random() * 15);
            await c.unsafe(random() < 0.2 ? "rollback" : "commit");
          }
        } finally {
          c.release();
        }
      }),
    );
    const committed = (
      await t.sql<{ id: string }[]>`select id from domain_event where id > ${start} order by id`
    ).map((r) => Number(r.id));
    const deadline = Date.now() + 10_000;
    while (got.length < committed.length && Date.now() < deadline) await sleep(50);
    stream.close();
    await collecting.catch(() => {});
    expect(committed.length).toBeGreaterThan(100);
    expect(got).toEqual(committed);
  });

  it("recovers when its LISTEN connection is killed mid-stream, losing nothing", async () => {
    const name = `outbox-kill-${randomUUID().slice(0, 8)}`;
    // A long safety poll, so delivery after the kill proves the listener came back.
    const reader = await startReader({ listenerName: name, safetyPollMs: 60_000 });
    const stream = reader.subscribe();
    const collecting = take(stream, 200, 20_000);
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) ids.push(await insertEvent(t.sql));
    const killed = await t.sql`
      select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${name}`;
    expect(killed.length).toBe(1);
    for (let i = 0; i < 100; i++) ids.push(await insertEvent(t.sql));
    const got = await collecting;
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(reader.statistics.listenerReconnects).toBeGreaterThanOrEqual(1);
    // And the listener is live again: one more event arrives without the safety poll.
    await sleep(200);
    expect(reader.isListening).toBe(true);
    const next = reader.subscribe();
    const one = take(next, 1, 3000);
    const id = await insertEvent(t.sql);
    expect((await one).map((e) => e.id)).toEqual([id]);
  });

  it("resumes after a disconnect from afterEventId: no gaps, no duplicates, then live", async () => {
    const reader = await startReader();
    const first = reader.subscribe();
    const ids: number[] = [];
    const firstHalf = take(first, 50);
    for (let i = 0; i < 50; i++) ids.push(await insertEvent(t.sql));
    const seen = await firstHalf;
    first.close();
    const last = seen[24]!.id; // the client only processed 25 before its connection dropped
    for (let i = 0; i < 50; i++) ids.push(await insertEvent(t.sql));
    const resumed = reader.subscribe({ afterEventId: last });
    const rest = take(resumed, 85);
    await sleep(50);
    for (let i = 0; i < 10; i++) ids.push(await insertEvent(t.sql));
    const got = (await rest).map((e) => e.id);
    expect(got).toEqual(ids.filter((id) => id > last));
  });

  it("filters by type and entity id, in SQL for replays and in memory for live events", async () => {
    const reader = await startReader();
    const entity = randomUUID();
    const before = reader.position;
    const live = reader.subscribe({
      filter: { types: ["invoice.status_changed"], entityIds: [entity] },
    });
    const collecting = take(live, 3);
    const wanted: number[] = [];
    for (let i = 0; i < 3; i++) {
      await insertEvent(t.sql, "invoice.status_changed");
      await insertEvent(t.sql, "project.status_changed", entity);
      wanted.push(await insertEvent(t.sql, "invoice.status_changed", entity));
    }
    const got = await collecting;
    expect(got.map((e) => e.id)).toEqual(wanted);
    expect(got.every((e) => e.entityId === entity && e.type === "invoice.status_changed")).toBe(
      true,
    );
    const replay = reader.subscribe({
      afterEventId: before,
      filter: { types: ["invoice.status_changed"], entityIds: [entity] },
    });
    expect((await take(replay, 3)).map((e) => e.id)).toEqual(wanted);
  });

  it("on start, still delivers an event whose transaction was in flight below the newest id", async () => {
    const a = await t.sql.reserve();
    try {
      await a.unsafe("begin");
      const late = await insertEvent(a);
      const committed = await insertEvent(t.sql);
      const reader = await startReader();
      const stream = reader.subscribe();
      const got = take(stream, 2);
      await a.unsafe("commit");
      const after = await insertEvent(t.sql);
      // `committed` was history when the reader started; `late` and `after` are news.
      expect((await got).map((e) => e.id)).toEqual([late, after]);
      expect(committed).toBeGreaterThan(late);
    } finally {
      await a.unsafe("rollback").catch(() => {});
      a.release();
    }
  });

  it("ends a subscriber that falls behind its queue limit with a resumable error", async () => {
    const reader = await startReader({ maxQueue: 5 });
    const stream = reader.subscribe();
    for (let i = 0; i < 10; i++) await insertEvent(t.sql);
    await sleep(300);
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const e of stream) got.push(e.id);
      })(),
    ).rejects.toThrow(/afterEventId=\d+/);
    expect(got).toHaveLength(5);
  });
});
