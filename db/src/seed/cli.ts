/**
 * `npm run seed [-- --scale N] [--seed N] [--reset]`: migrates, then loads the demo firm into
 * DATABASE_URL (or embedded Postgres). Refuses a database that already has data unless --reset,
 * which empties every hub table first. Prints rows per table and the time taken.
 */
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { createDbClient } from "../client.ts";
import { resolveDatabaseUrl } from "../database-url.ts";
import { ConfigError } from "../env.ts";
import { createLogger } from "../logger.ts";
import { runMigrations } from "../migrate.ts";
import { DatabaseNotEmptyError, resetDatabase, seedDemo } from "./index.ts";

const log = createLogger("seed");

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

let args: { scale: number; seed: number | undefined; reset: boolean };
try {
  const { values } = parseArgs({
    options: {
      scale: { type: "string", default: "1" },
      seed: { type: "string" },
      reset: { type: "boolean", default: false },
    },
  });
  const scale = Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1_000) {
    fail(`--scale must be a number between 0 and 1000, got ${JSON.stringify(values.scale)}`);
  }
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) fail("--seed must be an integer");
  args = { scale, seed, reset: values.reset ?? false };
} catch (error) {
  fail(`${(error as Error).message}\nusage: npm run seed -- [--scale N] [--seed N] [--reset]`);
}

let database: Awaited<ReturnType<typeof resolveDatabaseUrl>>;
try {
  database = await resolveDatabaseUrl(log);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const client = createDbClient(database.url, { max: 1, applicationName: "pshub-seed" });
let exitCode = 0;
try {
  await runMigrations(database.url);
  if (args.reset) await resetDatabase(client.sql);
  const bar = new SingleBar({
    format: "seeding [{bar}] {percentage}% | customers {value}/{total} | {rows} rows written",
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = false;
  const result = await seedDemo(client.sql, {
    scale: args.scale,
    seed: args.seed,
    onProgress: (p) => {
      if (!started) {
        bar.start(p.customersTotal, 0, { rows: 0 });
        started = true;
      }
      bar.update(p.customersDone, { rows: p.rowsWritten.toLocaleString("en-US") });
    },
  });
  bar.stop();
  const width = Math.max(...Object.keys(result.rows).map((t) => t.length));
  for (const [table, n] of Object.entries(result.rows)) {
    process.stdout.write(`  ${table.padEnd(width)}  ${n.toLocaleString("en-US").padStart(9)}\n`);
  }
  process.stdout.write(
    `seeded scale ${result.scale}: ${result.totalRows.toLocaleString("en-US")} rows in ${result.seconds.toFixed(1)} s\n`,
  );
} catch (error) {
  if (error instanceof DatabaseNotEmptyError) {
    process.stderr.write(`${error.message}\n`);
    exitCode = 1;
  } else {
    throw error;
  }
} finally {
  await client.close();
  await database.stop();
}
process.exit(exitCode);
