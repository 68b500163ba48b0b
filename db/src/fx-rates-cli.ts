/**
 * `npm run fx-rates -- <file.csv>`: loads a rates file (parseFxRatesCsv: the header
 * `base_currency,currency,rate,effective_date` in any order, one rate a line, # comments) into
 * fx_rate as source FILE, against DATABASE_URL (or the embedded Postgres of `npm start`).
 * The whole file is checked before anything is written, and written in one statement: a bad
 * file is one clear line on stderr, exit 1, and no rate loaded. A rate already stored for the
 * same pair and day is replaced (the file wins, as the ERP's poll does for its own).
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createDbClient } from "./client.ts";
import { resolveDatabaseUrl } from "./database-url.ts";
import { parseFxRatesCsv, upsertFxRates } from "./fx-rates.ts";
import { createLogger } from "./logger.ts";
import { runMigrations } from "./migrate.ts";

const USAGE = `usage: npm run fx-rates -- <rates.csv>
a CSV file with the header base_currency,currency,rate,effective_date (any column order):
1 unit of currency is rate units of base_currency from effective_date (YYYY-MM-DD) on`;

const { positionals } = parseArgs({ allowPositionals: true, options: {} });
if (positionals.length !== 1) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
const file = positionals[0] as string;

function fail(message: string): never {
  process.stderr.write(`${file}: ${message}; nothing loaded\n`);
  process.exit(1);
}

let text: string;
try {
  text = await readFile(file, "utf8");
} catch (error) {
  fail((error as Error).message);
}
let rates: ReturnType<typeof parseFxRatesCsv>;
try {
  rates = parseFxRatesCsv(text);
} catch (error) {
  fail((error as Error).message);
}
if (rates.length === 0) fail("no rates in the file");

const log = createLogger("fx-rates", "warn");
const database = await resolveDatabaseUrl(log);
await runMigrations(database.url);
const client = createDbClient(database.url, { max: 1, applicationName: "pshub-fx-rates" });
try {
  const changed = await client.db.transaction((tx) => upsertFxRates(tx, rates, "FILE"));
  const pairs = new Set(rates.map((r) => `${r.currency}/${r.baseCurrency}`));
  const days = rates.map((r) => r.effectiveDate).sort();
  process.stdout.write(
    `loaded ${rates.length} rates from ${file} (${pairs.size} currency pairs, ${days[0]} to ${days.at(-1)}): ${changed} new or changed\n`,
  );
} finally {
  await client.close();
  await database.stop();
}
