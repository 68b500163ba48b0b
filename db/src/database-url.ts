/**
 * Where the hub's database is: DATABASE_URL when set, else the embedded cluster (database
 * `pshub` in .data/pg, created on first use).
 */
import type { Logger } from "pino";
import { withDatabase } from "./client.ts";
import { ensureEmbeddedPostgres } from "./embedded.ts";
import { dbEnv } from "./env.ts";
import { ensureDatabase } from "./migrate.ts";

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
  /** True when this process started the embedded cluster (and `stop` stops it). */
  owned: boolean;
  /** Stops the embedded cluster if this process started it; otherwise does nothing. */
  stop(): Promise<void>;
}

export async function resolveDatabaseUrl(log?: Logger): Promise<ResolvedDatabase> {
  const env = dbEnv();
  if (env.DATABASE_URL) {
    return { url: env.DATABASE_URL, embedded: false, owned: false, stop: async () => {} };
  }
  const cluster = await ensureEmbeddedPostgres(env.PSHUB_DATA_DIR, (line) => log?.debug(line));
  log?.info({ reused: !cluster.owned }, "embedded Postgres ready");
  await ensureDatabase(cluster.url, "pshub");
  return {
    url: withDatabase(cluster.url, "pshub"),
    embedded: true,
    owned: cluster.owned,
    stop: cluster.stop,
  };
}
