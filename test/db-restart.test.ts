/**
 * A Postgres restart under a running subgraph and gateway, on a throwaway embedded server of this
 * test's own (never the machine's shared server): while it is down a request is answered within
 * seconds with SERVICE_UNAVAILABLE and `extensions.retryable: true` (not "Internal server error",
 * not a hang), and once it is back the next requests and transactions succeed within seconds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  createDbClient,
  type DbClient,
  type EmbeddedCluster,
  ensureDatabase,
  ensureEmbeddedPostgres,
  runMigrations,
  withDatabase,
} from "@pshub/db";
import { createGateway, type PshubGateway } from "@pshub/gateway";
import { createCustomerSubgraph } from "@pshub/subgraph-customer";
import { listen, type RunningSubgraph } from "@pshub/subgraph-kit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
let cluster: EmbeddedCluster | undefined;
let client: DbClient;
let subgraph: RunningSubgraph;
let gateway: PshubGateway;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "pshub-restart-"));
  cluster = await ensureEmbeddedPostgres(path.join(dir, "pg"));
  await ensureDatabase(cluster.url, "pshub");
  const dbUrl = withDatabase(cluster.url, "pshub");
  await runMigrations(dbUrl);
  client = createDbClient(dbUrl, { max: 4, applicationName: "pshub-restart-test" });
  subgraph = await listen(createCustomerSubgraph(client.db), { port: 0 });
  gateway = await createGateway({ subgraphUrls: { customer: subgraph.url }, ide: false });
  ({ url } = await gateway.listen({ port: 0 }));
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await subgraph?.close();
  await client?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function customers() {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ customers(first: 1) { totalCount } }" }),
  });
  return {
    status: response.status,
    // biome-ignore lint/suspicious/noExplicitAny: a GraphQL response
    body: (await response.json()) as any,
  };
}

describe("a Postgres restart", () => {
  it("down: SERVICE_UNAVAILABLE, retryable, within seconds; back: served again within seconds", async () => {
    expect((await customers()).body).toEqual({ data: { customers: { totalCount: 0 } } });
    const before = cluster?.url;
    await cluster?.stop();

    const askedAt = Date.now();
    const down = await customers();
    const tookMs = Date.now() - askedAt;
    expect(tookMs).toBeLessThan(6_000);
    expect(down.body.errors?.[0]?.extensions).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      retryable: true,
    });
    expect(down.body.errors?.[0]?.message).not.toMatch(/internal server error/i);

    cluster = await ensureEmbeddedPostgres(path.join(dir, "pg"));
    expect(cluster.url).toBe(before);
    const upAt = Date.now();
    // A transaction on the pool from before the restart goes through at once.
    await client.db.transaction(async (tx) => {
      await tx.execute(sql`create table if not exists after_restart (id int)`);
      await tx.execute(sql`insert into after_restart values (1)`);
    });
    for (;;) {
      const again = await customers();
      if (again.body.data?.customers) break;
      expect(Date.now() - upAt, JSON.stringify(again.body)).toBeLessThan(3_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(Date.now() - upAt).toBeLessThan(3_000);
    const [row] = await client.sql<{ n: number }[]>`select count(*)::int as n from after_restart`;
    expect(row?.n).toBe(1);
  }, 60_000);
});
