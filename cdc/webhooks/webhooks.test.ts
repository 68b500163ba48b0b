/**
 * Signed webhooks over real HTTP into real Postgres: accepted only when durably in the inbox,
 * applied asynchronously by the applier; duplicates, out-of-order, stale, badly signed, oversize
 * and malformed deliveries — nothing applied twice, nothing unsigned.
 */
import { execute, operations, schema } from "@pshub/db";
import {
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Applier } from "../engine/applier.ts";
import { newWebhookSecret, WebhookSender } from "../sandbox/webhooks/sender.ts";
import { webhookMappers } from "./events.ts";
import { WEBHOOK_SOURCE, WebhookReceiver } from "./receiver.ts";

let t: TestDatabase;
let receiver: WebhookReceiver;
let sender: WebhookSender;
let url: string;
const oldSecret = newWebhookSecret();
const newSecret = newWebhookSecret();
let applier: Applier;
let projectCode: string;
let resourceEmail: string;

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = new WebhookReceiver({
    client: t,
    secrets: [newSecret, oldSecret],
    maxBodyBytes: 4096,
  });
  const port = await receiver.listen(0);
  url = `http://127.0.0.1:${port}/webhooks`;
  sender = new WebhookSender(url, newSecret);
  applier = new Applier(t, { mappers: webhookMappers });
  const basics = await seedBasics(t.db);
  const opp = await wonOpportunity(t.db, basics);
  const converted = await execute(
    t.db,
    operations.convertOpportunity,
    { actor: "test" },
    { opportunityId: opp },
  );
  projectCode = converted.project.code;
  const resourceId = await newResource(t.db);
  const [r] = await t.db.select().from(schema.resource).where(eq(schema.resource.id, resourceId));
  resourceEmail = r!.email;
});
afterAll(async () => {
  await receiver?.close();
  await t?.drop();
});

const entry = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  project_id: "P-1",
  resource_id: "R-1",
  work_date: "2026-05-04",
  hours: "7.50",
  bill_rate: "150.00",
  currency: "USD",
  ...extra,
});

async function timeEntry(externalId: string) {
  const [row] = await t.db.execute<{ id: string; status: string; hours: string }>(sql`
    select t.id, t.status, t.hours from time_entry t join source_link l on l.entity_id = t.id
    where l.system = 'PSA' and l.object = 'time_entry' and l.external_id = ${externalId}`);
  return row;
}

async function inboxRow(dedupeKey: string) {
  const [row] = await t.db
    .select()
    .from(schema.inboxEvent)
    .where(
      and(eq(schema.inboxEvent.source, WEBHOOK_SOURCE), eq(schema.inboxEvent.dedupeKey, dedupeKey)),
    );
  return row;
}

describe("signed webhooks", () => {
  it("records a signed event (2xx after commit), waits for its project, applies it when the project arrives", async () => {
    const first = await sender.send("time_entry.submitted", entry("TE-1"));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ received: true, duplicate: false });
    expect((await inboxRow(first.id))?.status).toBe("RECEIVED");
    await applier.drain();
    expect((await inboxRow(first.id))?.waitingFor).toBe("PSA:project:P-1");
    expect(await timeEntry("TE-1")).toBeUndefined();
    // The old secret still verifies while secrets rotate.
    const project = await new WebhookSender(url, oldSecret).send("project.updated", {
      id: "P-1",
      code: projectCode,
    });
    expect(project.status).toBe(200);
    expect(
      (
        await sender.send("resource.updated", {
          id: "R-1",
          email: resourceEmail,
          name: "Ann",
          role: "Consultant",
          bill_rate: "150.00",
          cost_rate: "90.00",
          currency: "USD",
        })
      ).status,
    ).toBe(200);
    await applier.drain();
    expect((await timeEntry("TE-1"))?.status).toBe("SUBMITTED");
    expect((await inboxRow(first.id))?.status).toBe("APPLIED");
  });

  it("concurrent deliveries share commits (group commit): each answered with its own row; a concurrent redelivery is recorded once", async () => {
    const sends = Array.from({ length: 60 }, (_, i) =>
      sender.send("time_entry.submitted", entry(`TE-C${i}`)),
    );
    const same = Array.from({ length: 10 }, () =>
      sender.send("time_entry.submitted", entry("TE-C-dup"), { id: "msg_concurrent_dup" }),
    );
    const answers = await Promise.all(sends);
    const dupAnswers = await Promise.all(same);
    expect(
      answers.every(
        (a) => a.status === 200 && (a.body as { duplicate: boolean }).duplicate === false,
      ),
    ).toBe(true);
    const ids = answers.map((a) => (a.body as { inboxEventId: number }).inboxEventId);
    expect(new Set(ids).size).toBe(60);
    for (const [i, a] of answers.entries()) expect((await inboxRow(a.id))?.id).toBe(ids[i]);
    // Fewer transactions than deliveries: concurrent ones were committed together.
    const [tx] = await t.db.execute<{ n: number }>(sql`
      select count(distinct xmin::text)::int as n from inbox_event where external_id like 'TE-C%'`);
    expect(tx!.n).toBeLessThan(60);
    expect(dupAnswers.every((a) => a.status === 200)).toBe(true);
    expect(
      dupAnswers.filter((a) => (a.body as { duplicate: boolean }).duplicate === false),
    ).toHaveLength(1);
    const rows = await t.db
      .select()
      .from(schema.inboxEvent)
      .where(eq(schema.inboxEvent.dedupeKey, "msg_concurrent_dup"));
    expect(rows).toHaveLength(1);
  });

  it("group commit: a 2xx only once its group's statement has committed; a failed group is 503 for every delivery in it, none of them recorded, and a retry records each once", async () => {
    const counted = await sender.send("time_entry.submitted", entry("TE-G0"));
    expect(counted.status).toBe(200);
    const visible = async (ids: string[]) => {
      const rows = await t.db.execute<{ n: number }>(sql`
        select count(*)::int as n from inbox_event
        where source = ${WEBHOOK_SOURCE} and dedupe_key = any(${`{${ids.join(",")}}`}::text[])`);
      return rows[0]!.n;
    };
    // Every row of the group fails with this one: the statement is the group's transaction.
    await t.db.execute(
      sql.raw(`
      create function refuse_poison() returns trigger language plpgsql as $$
      begin
        if new.dedupe_key = 'msg_poison' then raise exception 'poisoned delivery'; end if;
        return new;
      end $$;
      create trigger refuse_poison before insert on inbox_event
        for each row execute function refuse_poison()`),
    );
    // The counter row locked elsewhere: both writers block inside their statement (rows written,
    // not committed), so the deliveries that arrive meanwhile queue up as one group.
    const holder = await t.sql.reserve();
    try {
      await holder`begin`;
      await holder`select 1 from sync_cursor
        where connector = ${WEBHOOK_SOURCE} and object = 'time_entry' for update`;
      let answered = 0;
      const blockers = ["msg_block_1", "msg_block_2"].map((id, i) =>
        sender.send("time_entry.submitted", entry(`TE-GB${i}`), { id }).finally(() => answered++),
      );
      await vi.waitFor(
        async () => {
          const [w] = await t.db.execute<{ n: number }>(sql`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`);
          expect(w!.n).toBe(2);
        },
        { timeout: 10_000, interval: 50 },
      );
      const groupIds = ["msg_poison", ...Array.from({ length: 5 }, (_, i) => `msg_group_${i}`)];
      const group = groupIds.map((id, i) =>
        sender.send("time_entry.submitted", entry(`TE-GG${i}`), { id }),
      );
      // Verified and queued behind the blocked writers; nothing of them answered or committed.
      await new Promise((r) => setTimeout(r, 500));
      expect(answered).toBe(0);
      expect(await visible(["msg_block_1", "msg_block_2"])).toBe(0);
      await holder`rollback`;
      const blocked = await Promise.all(blockers);
      expect(blocked.map((b) => b.status)).toEqual([200, 200]);
      expect(await visible(["msg_block_1", "msg_block_2"])).toBe(2);
      const results = await Promise.all(group);
      const refused = results.filter((r) => r.status === 503).map((r) => r.id);
      // The poison and the deliveries that shared its statement: 503, and no row of any of them.
      expect(refused).toContain("msg_poison");
      expect(refused.length).toBeGreaterThan(1);
      expect(results.every((r) => r.status === 200 || r.status === 503)).toBe(true);
      expect(await visible(refused)).toBe(0);
      const accepted = results.filter((r) => r.status === 200).map((r) => r.id);
      expect(await visible(accepted)).toBe(accepted.length);
      // The sender retries a 503: each delivery of the failed group is recorded once.
      await t.db.execute(sql`drop trigger refuse_poison on inbox_event`);
      for (const [i, id] of groupIds.entries()) {
        const again = await sender.send("time_entry.submitted", entry(`TE-GG${i}`), { id });
        expect(again.status).toBe(200);
        expect(again.body).toMatchObject({ duplicate: accepted.includes(id) });
      }
      expect(await visible(groupIds)).toBe(groupIds.length);
    } finally {
      holder.release();
      await t.db.execute(sql`drop trigger if exists refuse_poison on inbox_event`);
      await t.db.execute(sql`drop function if exists refuse_poison()`);
    }
  });

  it("a redelivery (same webhook-id) is answered 200 and recorded and applied once", async () => {
    const a = await sender.send("time_entry.submitted", entry("TE-2"));
    const b = await sender.send("time_entry.submitted", entry("TE-2", { hours: "9.00" }), {
      id: a.id,
    });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ duplicate: true });
    await applier.drain();
    const rows = await t.db
      .select()
      .from(schema.inboxEvent)
      .where(eq(schema.inboxEvent.dedupeKey, a.id));
    expect(rows).toHaveLength(1);
    expect((await timeEntry("TE-2"))?.hours).toBe("7.50");
  });

  it("out of order: an older change after a newer one is skipped as stale; one transition", async () => {
    const approved = await sender.send(
      "time_entry.approved",
      entry("TE-3", { updated_at: "2026-05-05T10:00:00Z" }),
    );
    await applier.drain();
    const submitted = await sender.send(
      "time_entry.submitted",
      entry("TE-3", { updated_at: "2026-05-05T09:00:00Z" }),
    );
    await applier.drain();
    expect((await timeEntry("TE-3"))?.status).toBe("APPROVED");
    expect((await inboxRow(submitted.id))?.status).toBe("SKIPPED");
    expect((await inboxRow(submitted.id))?.reason).toMatch(/stale/);
    expect((await inboxRow(approved.id))?.reason).toMatch(/SUBMITTED → APPROVED/);
    const te = await timeEntry("TE-3");
    const [n] = await t.db.execute<{ n: number }>(sql`select count(*)::int as n from domain_event
      where entity_id = ${te!.id} and type = 'time_entry.status_changed'`);
    expect(n?.n).toBe(1);
    // Both in one batch: merged in source-time order, so the newer state wins as well.
    await sender.send("time_entry.approved", entry("TE-4", { updated_at: "2026-05-06T10:00:00Z" }));
    await sender.send(
      "time_entry.submitted",
      entry("TE-4", { updated_at: "2026-05-06T09:00:00Z" }),
    );
    await applier.drain();
    expect((await timeEntry("TE-4"))?.status).toBe("APPROVED");
  });

  it("refuses bad signatures, stale timestamps, oversize, malformed JSON and missing headers: 4xx, recorded, nothing applied", async () => {
    const before = await t.db.execute<{ n: number }>(
      sql`select count(*)::int as n from time_entry`,
    );
    const cases = [
      [
        await sender.send("time_entry.approved", entry("TE-X1"), { secret: newWebhookSecret() }),
        401,
        "BAD_SIGNATURE",
      ],
      [
        await sender.send("time_entry.approved", entry("TE-X2"), {
          tamper: (b) => b.replace("7.50", "70.50"),
        }),
        401,
        "BAD_SIGNATURE",
      ],
      [
        await sender.send("time_entry.approved", entry("TE-X3"), {
          timestamp: new Date(Date.now() - 10 * 60_000),
        }),
        401,
        "STALE_TIMESTAMP",
      ],
      [
        await sender.send("time_entry.approved", entry("TE-X4"), {
          timestamp: new Date(Date.now() + 10 * 60_000),
        }),
        401,
        "STALE_TIMESTAMP",
      ],
      [
        await sender.send("time_entry.approved", entry("TE-X5", { description: "x".repeat(5000) })),
        413,
        "PAYLOAD_TOO_LARGE",
      ],
      [
        await sender.send("time_entry.approved", {}, { rawBody: "{not json" }),
        400,
        "MALFORMED_JSON",
      ],
      [
        await sender.send("time_entry.approved", entry("TE-X6"), { omitHeaders: true }),
        400,
        "MISSING_SIGNATURE_HEADERS",
      ],
      [await sender.send("ledger.exploded", { id: "1" }), 422, "UNKNOWN_EVENT"],
    ] as const;
    for (const [res, status, code] of cases) {
      expect(res.status, code).toBe(status);
      expect(res.body).toMatchObject({ error: { code } });
    }
    await applier.drain();
    const after = await t.db.execute<{ n: number }>(sql`select count(*)::int as n from time_entry`);
    expect(after[0]?.n).toBe(before[0]?.n);
    const refused = await t.db.execute<{ reason: string; status: string }>(sql`
      select reason, status from inbox_event where source = ${WEBHOOK_SOURCE} and object = '(refused)' order by id`);
    expect(refused.map((r) => r.reason.split(":")[0])).toEqual(
      cases.map(([, s, c]) => `${s} ${c}`),
    );
    expect(new Set(refused.map((r) => r.status))).toEqual(new Set(["FAILED"]));
  });

  it("a PSA that names hub rows (project_code, resource_email) needs no link events", async () => {
    const res = await sender.send("time_entry.approved", {
      id: "TE-NK",
      project_code: projectCode,
      resource_email: resourceEmail,
      work_date: "2026-05-07",
      hours: "2.00",
      bill_rate: "150.00",
      currency: "USD",
    });
    expect(res.status).toBe(200);
    await applier.drain();
    expect((await timeEntry("TE-NK"))?.status).toBe("APPROVED");
  });

  it("a signed event with a bad value fails with a PROJECT_OPS exception naming the field", async () => {
    const res = await sender.send("time_entry.submitted", entry("TE-BAD", { hours: "lots" }));
    expect(res.status).toBe(200);
    await applier.drain();
    const row = await inboxRow(res.id);
    expect(row?.status).toBe("FAILED");
    const [ex] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.inboxEventId, row!.id));
    expect(ex?.owner).toBe("PROJECT_OPS");
    expect(ex?.message).toMatch(/data\.hours/);
    expect(ex?.remediation).toMatch(/time_entry TE-BAD/);
  });
});

/**
 * The Standard Webhooks specification's own test vector (standard-webhooks spec, "Signature
 * scheme": secret, msg_id, timestamp, payload and the v1 signature it must produce), at the
 * vector's time: the signature verifies (the body is then refused as no event of ours: 422, not
 * 401), a changed byte does not, and the vector's signature found among others in a
 * space-separated list is accepted.
 */
describe("the Standard Webhooks test vector", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const timestamp = "1614265330";
  const body = '{"test": 2432232314}';
  const signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

  it("verifies as the spec says, and refuses a changed body", async () => {
    const vector = new WebhookReceiver({ client: t, secrets: [secret] });
    const port = await vector.listen(0);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Number(timestamp) * 1000 + 30_000);
    try {
      const post = (payload: string, sig: string) =>
        fetch(`http://127.0.0.1:${port}/webhooks`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "webhook-id": id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sig,
          },
          body: payload,
        }).then(async (r) => ({
          status: r.status,
          code: ((await r.json()) as { error?: { code?: string } }).error?.code,
        }));
      expect(await post(body, signature)).toEqual({ status: 422, code: "INVALID_EVENT" });
      expect(await post(body, `v1,Zm9vYmFy ${signature} v1a,aGVsbG8=`)).toEqual({
        status: 422,
        code: "INVALID_EVENT",
      });
      expect(await post('{"test": 2432232315}', signature)).toEqual({
        status: 401,
        code: "BAD_SIGNATURE",
      });
    } finally {
      vi.useRealTimers();
      await vector.close();
    }
  });
});
