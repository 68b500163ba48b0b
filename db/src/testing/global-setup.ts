/**
 * Vitest global setup: find a Postgres server (DATABASE_URL, else embedded under .data/pg-test),
 * migrate once into a template database named after the migrations' hash, and hand both to the
 * test files, each of which clones its own database from the template (see ./index.ts).
 * Fails fast with one clear message when the server cannot be reached.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { ensureEmbeddedPostgres, repoRoot } from "../embedded.ts";
import { dbEnv } from "../env.ts";
import { migrationsFolder, recreateDatabase } from "../migrate.ts";

import "./provided-context.ts";

function migrationsHash(): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(migrationsFolder).sort()) {
    if (file.endsWith(".sql"))
      hash.update(file).update(readFileSync(path.join(migrationsFolder, file)));
  }
  return hash.digest("hex").slice(0, 12);
}

export default async function setup(project: TestProject) {
  const env = dbEnv();
  let stop = async () => {};
  let serverUrl: string;
  if (env.DATABASE_URL) {
    serverUrl = env.DATABASE_URL;
  } else {
    const cluster = await ensureEmbeddedPostgres(path.join(repoRoot, ".data", "pg-test"));
    serverUrl = cluster.url;
    stop = cluster.stop;
  }

  const admin = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin`select 1`;
  } catch (error) {
    throw new Error(
      `Tests need PostgreSQL: cannot connect to ${serverUrl.replace(/:[^:@/]*@/, ":***@")} (${(error as Error).message}). Start it, or unset DATABASE_URL to use embedded Postgres.`,
    );
  }

  const template = `pshub_tpl_${migrationsHash()}`;
  try {
    // Serialise template creation across concurrent test runs on one server.
    await admin`select pg_advisory_lock(hashtext('pshub_template'))`;
    const exists = await admin`select 1 from pg_database where datname = ${template}`;
    if (exists.length === 0) {
      const building = `${template}_build`;
      await recreateDatabase(serverUrl, building);
      await admin.unsafe(`alter database "${building}" rename to "${template}"`);
    }
    // Leftovers of earlier runs that were killed before their teardown.
    const stale = await admin<{ datname: string }[]>`
      select datname from pg_database
      where datname ~ '^pshub_t_[0-9]+_[0-9a-f]+$' and datname not in (select datname from pg_stat_activity where datname is not null)`;
    for (const { datname } of stale) {
      await admin.unsafe(`drop database if exists "${datname}" with (force)`).catch(() => {});
    }
  } finally {
    await admin`select pg_advisory_unlock(hashtext('pshub_template'))`.catch(() => {});
    await admin.end({ timeout: 5 });
  }

  project.provide("pshubServerUrl", serverUrl);
  project.provide("pshubTemplateDb", template);
  return async () => {
    await stop();
  };
}
