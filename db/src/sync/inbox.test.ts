/**
 * writeInbox's one statement (a column array each, the payloads as one JSON array): every value
 * comes back as it was given, in its row, whatever it holds, and duplicates stay unrecorded.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { reserveInboxIds, writeInbox } from "./inbox.ts";

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});

afterAll(async () => {
  await t?.drop();
});

describe("writeInbox", () => {
  it("keeps each row's values and payload text as given: quotes, backslashes, commas, braces, NULL-like text, unicode", async () => {
    const odd = `a "quoted", {braced} \\ back\\slash, NULL, null, ünïcødé ✓`;
    const payloads = [
      { system: "SALESFORCE", object: "Account", fields: { Name: odd, Amount: "12.30" } },
      { system: "SALESFORCE", object: "Account", fields: { Name: "NULL", Tags: [odd, null] } },
      "a string payload",
    ];
    const written = await t.db.transaction(async (tx) => {
      const [id] = await reserveInboxIds(tx, "inbox-test", ["k1"]);
      return writeInbox(tx, "inbox-test", [
        {
          id: id!,
          dedupeKey: "k1",
          system: "SALESFORCE",
          object: "Account",
          externalId: odd,
          payload: payloads[0],
          sourceModifiedAt: "2026-02-01T10:00:00.000Z",
          outcome: {
            id: id!,
            status: "SKIPPED",
            reason: odd,
            ignoredFields: ["name", odd, "NULL"],
          },
        },
        {
          dedupeKey: "k2",
          system: null,
          object: "(refused)",
          externalId: null,
          payload: payloads[1],
          status: "FAILED",
          reason: "400 MALFORMED_JSON",
        },
        { dedupeKey: "k3", system: "PSA", object: "x", externalId: "3", payload: payloads[2] },
        // A duplicate within the batch is recorded once.
        { dedupeKey: "k3", system: "PSA", object: "x", externalId: "3", payload: { other: 1 } },
      ]);
    });
    expect(written.received).toBe(3);
    expect(written.duplicates).toBe(1);
    const rows = await t.db.execute<{
      dedupe_key: string;
      system: string | null;
      external_id: string | null;
      payload_text: string;
      source_modified_at: string | null;
      status: string;
      reason: string | null;
      ignored_fields: string[] | null;
      attempts: number;
    }>(sql`
      select dedupe_key, system, external_id, payload::text as payload_text,
        source_modified_at::text, status, reason, ignored_fields, attempts
      from inbox_event where source = 'inbox-test' order by dedupe_key`);
    expect(rows.map((r) => r.dedupe_key)).toEqual(["k1", "k2", "k3"]);
    expect(rows.map((r) => r.payload_text)).toEqual(payloads.map((p) => JSON.stringify(p)));
    expect(rows[0]).toMatchObject({
      system: "SALESFORCE",
      external_id: odd,
      status: "SKIPPED",
      reason: odd,
      ignored_fields: ["name", odd, "NULL"],
      attempts: 1,
    });
    expect(rows[0]!.source_modified_at).toMatch(/^2026-02-01 10:00:00/);
    expect(rows[1]).toMatchObject({
      system: null,
      external_id: null,
      status: "FAILED",
      reason: "400 MALFORMED_JSON",
      ignored_fields: null,
      source_modified_at: null,
      attempts: 0,
    });
    expect(rows[2]).toMatchObject({ status: "RECEIVED", reason: null, ignored_fields: null });
  });

  it("reserves ids only for keys not in the inbox yet (nor earlier in the list)", async () => {
    const ids = await t.db.transaction((tx) =>
      reserveInboxIds(tx, "inbox-test", ["k1", "new-1", "k3", "new-1", "new-2"]),
    );
    expect(ids[0]).toBeNull();
    expect(ids[2]).toBeNull();
    expect(ids[3]).toBeNull();
    expect(ids[1]).toEqual(expect.any(Number));
    expect(ids[4]).toEqual(expect.any(Number));
    expect(ids[4]).not.toBe(ids[1]);
  });
});
