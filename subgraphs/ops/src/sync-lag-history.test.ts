/**
 * Query.syncLagHistory: the lag samples per connector and object in buckets, equal to a
 * hand-written SQL statement over sync_lag_sample (bucket starts, counts, discrete p50/p99, max);
 * the window and filters hold; out-of-bounds arguments are BAD_USER_INPUT; the roles hold
 * (analyst and integration; not finance, sales, delivery) and a legal-entity scope does not change
 * the series (the samples belong to no legal entity).
 */
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { SubgraphServer } from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpsSubgraph } from "./index.ts";
import type { OpsLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<OpsLoaders>;

const HISTORY = `query($connector: String, $object: String, $hours: Int, $bucketMinutes: Int) {
  syncLagHistory(connector: $connector, object: $object, hours: $hours, bucketMinutes: $bucketMinutes) {
    connector object bucketMinutes points { at samples p50Ms p99Ms maxMs }
  }
}`;

// biome-ignore lint/suspicious/noExplicitAny: result rows are walked ad hoc
type Row = Record<string, any>;

beforeAll(async () => {
  t = await createTestDatabase();
  server = createOpsSubgraph(t.db);
  // Two objects of one connector and one of another, sampled over the last 30 hours (every
  // 7 minutes, lags that vary), plus samples older than any window.
  await t.sql`
    insert into sync_lag_sample (connector, object, lag_ms, sampled_at)
    select c.connector, c.object, (c.base + (n * 7919) % 5000)::int, now() - make_interval(mins => n * 7)
      from (values ('salesforce', 'Opportunity', 100), ('salesforce', 'Account', 2000),
                   ('netsuite', 'invoice', 40000)) as c(connector, object, base),
           generate_series(0, 30 * 60 / 7) as n`;
}, 60_000);

afterAll(async () => {
  await t?.drop();
});

/** The same buckets by hand: floor of the epoch by the bucket length, percentiles by rank. */
async function bySql(hours: number, minutes: number, connector?: string) {
  const rows = await t.sql.unsafe(
    `with s as (
       select connector, object, lag_ms,
              to_timestamp(floor(extract(epoch from sampled_at) / ($2 * 60)) * ($2 * 60)) as at
         from sync_lag_sample
        where sampled_at > now() - $1 * interval '1 hour' and ($3::text is null or connector = $3)),
     ranked as (
       select *, row_number() over (partition by connector, object, at order by lag_ms) as k,
              count(*) over (partition by connector, object, at) as n
         from s)
     select connector, object, at, n::int as samples,
            min(lag_ms) filter (where k = ceil(0.5 * n)) as p50,
            min(lag_ms) filter (where k = ceil(0.99 * n)) as p99, max(lag_ms) as max
       from ranked group by connector, object, at, n order by connector, object, at`,
    [hours, minutes, connector ?? null],
  );
  const series = new Map<string, Row>();
  for (const r of rows) {
    const key = `${r.connector}/${r.object}`;
    const one = series.get(key) ?? {
      connector: r.connector,
      object: r.object,
      bucketMinutes: minutes,
      points: [],
    };
    one.points.push({
      at: new Date(r.at as string).toISOString(),
      samples: r.samples,
      p50Ms: r.p50,
      p99Ms: r.p99,
      maxMs: r.max,
    });
    series.set(key, one);
  }
  return [...series.values()];
}

describe("Query.syncLagHistory", () => {
  it("equals the samples bucketed by hand, for the defaults and other windows", async () => {
    const defaults = await server.execute(HISTORY, {});
    expect(defaults.errors).toBeUndefined();
    const expected = await bySql(24, 30);
    expect(expected.map((s) => `${s.connector}/${s.object}`)).toEqual([
      "netsuite/invoice",
      "salesforce/Account",
      "salesforce/Opportunity",
    ]);
    // 24 h in 30-minute buckets: 48 whole ones and the window's cut first one.
    for (const s of expected) expect(s.points.length).toBeGreaterThanOrEqual(48);
    expect(defaults.data?.syncLagHistory).toEqual(expected);

    const narrow = await server.execute(HISTORY, {
      connector: "salesforce",
      hours: 3,
      bucketMinutes: 20,
    });
    expect(narrow.errors).toBeUndefined();
    expect(narrow.data?.syncLagHistory).toEqual(await bySql(3, 20, "salesforce"));

    const one = await server.execute(HISTORY, { connector: "salesforce", object: "Account" });
    expect(one.data?.syncLagHistory.map((s: Row) => s.object)).toEqual(["Account"]);
    const none = await server.execute(HISTORY, { connector: "certinia" });
    expect(none.data?.syncLagHistory).toEqual([]);
  });

  it("refuses windows out of bounds as BAD_USER_INPUT", async () => {
    for (const args of [
      { hours: 0 },
      { hours: 26 },
      { bucketMinutes: 0 },
      { bucketMinutes: 1441 },
      { hours: 24, bucketMinutes: 1 },
    ]) {
      const result = await server.execute(HISTORY, args);
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(args)).toBe("BAD_USER_INPUT");
      expect(result.data ?? null, JSON.stringify(args)).toBeNull();
    }
    const edge = await server.execute(HISTORY, { hours: 25, bucketMinutes: 5 });
    expect(edge.errors).toBeUndefined();
  });

  it("is for analyst and integration; a legal-entity scope sees the same series", async () => {
    const all = await server.execute(HISTORY, {});
    for (const role of ["analyst", "integration"]) {
      const ok = await server.execute(HISTORY, {}, { "x-pshub-roles": role });
      expect(ok.errors, role).toBeUndefined();
      expect(ok.data?.syncLagHistory, role).toEqual(all.data?.syncLagHistory);
    }
    const scoped = await server.execute(
      HISTORY,
      {},
      { "x-pshub-roles": "integration", "x-pshub-legal-entities": "AR-UK" },
    );
    expect(scoped.data?.syncLagHistory).toEqual(all.data?.syncLagHistory);
    for (const role of ["finance", "sales", "delivery"]) {
      const refused = await server.execute(HISTORY, {}, { "x-pshub-roles": role });
      expect(refused.errors?.[0]?.extensions?.code, role).toBe("FORBIDDEN");
      expect(refused.data?.syncLagHistory ?? null, role).toBeNull();
    }
  });
});
