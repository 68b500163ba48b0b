/**
 * SyncException.overdue and the `overdue` filter are one rule on one clock (the database's): an
 * application clock that drifts cannot make a row's flag disagree with the list it is in.
 */
import { builders, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { SubgraphServer } from "@pshub/subgraph-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createOpsSubgraph } from "./index.ts";
import type { OpsLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<OpsLoaders>;

beforeAll(async () => {
  t = await createTestDatabase();
  const b = builders(t.db);
  // Due in an hour and due an hour ago, by the database's clock.
  const [now] = await t.sql<
    { ms: string }[]
  >`select (extract(epoch from now()) * 1000)::bigint::text as ms`;
  for (const offset of [-3600_000, 3600_000]) {
    await b.syncException({ status: "OPEN", dueAt: new Date(Number(now!.ms) + offset) });
  }
  server = createOpsSubgraph(t.db);
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await t?.drop();
});

const LIST = `query($overdue: Boolean) { syncExceptions(filter: { overdue: $overdue }) {
  totalCount nodes { overdue } } }`;

describe("SyncException.overdue", () => {
  for (const [label, shift] of [
    ["the application clock agrees with the database", 0],
    ["the application clock runs a day ahead", 86400_000],
    ["the application clock runs a day behind", -86400_000],
  ] as const) {
    it(`agrees with the overdue filter when ${label}`, async () => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + shift);
      for (const overdue of [true, false]) {
        const result = await server.execute(LIST, { overdue });
        expect(result.errors).toBeUndefined();
        const conn = result.data?.syncExceptions;
        expect(conn.totalCount).toBe(1);
        expect(conn.nodes).toEqual([{ overdue }]);
      }
    });
  }
});
