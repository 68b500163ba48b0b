/**
 * Test support: every test file gets its own database cloned from the migrated template, so
 * files run in parallel on one real Postgres server.
 *
 *   const t = await createTestDatabase();   // in beforeAll
 *   await t.drop();                         // in afterAll
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import "./provided-context.ts";
import { type ClientOptions, createDbClient, type DbClient, withDatabase } from "../client.ts";

export interface TestDatabase extends DbClient {
  /** Connection URL of this test's database (for child processes such as subgraph servers). */
  url: string;
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(options: ClientOptions = {}): Promise<TestDatabase> {
  const serverUrl = inject("pshubServerUrl");
  const template = inject("pshubTemplateDb");
  const name = `pshub_t_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}" template "${template}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = withDatabase(serverUrl, name);
  const client = createDbClient(url, { applicationName: `pshub-test-${name}`, ...options });
  // Hold a connection from the start: another run's global setup drops test databases nobody is
  // connected to (leftovers of killed runs), and a file whose first query comes late (a child
  // process connects first) would lose its database to it.
  await client.sql`select 1`;
  return {
    ...client,
    url,
    name,
    async drop() {
      await client.close();
      const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}
/** Builders for lifecycle scenarios: legal entity + tax rate, won opportunities, time, expenses. */
// Test data builders: one set for every package's tests (rows of any table, the lifecycle's
// basics, customer/project rows, a whole invoiced customer tree).
export * from "./customer.ts";
export * from "./customer-tree.ts";
export * from "./lifecycle.ts";
export * from "./project.ts";
export * from "./rows.ts";
