/**
 * `npm run bench -- kpis [--scale 40] [--rounds 5] [--quick] [--no-record]`
 *
 * Query.kpis over the demo firm (`--scale 40` ≈ 200,000 time entries), one KPI field per
 * request through the ops subgraph (in-process execute: parse, validate, roles, scope, the
 * statement, serialisation), beside the floor: the plain aggregate SQL of the same figure (the
 * hand-written statements of subgraphs/ops/src/kpis.test.ts: no aging, no entity names, one
 * GROUP BY). Every round runs each KPI and its floor, interleaved (the order swaps each round);
 * the table gives median and min–max. Load average: sampled by this script before every run.
 */
import { appendFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  billableItems,
  createDbClient,
  createLogger,
  recreateDatabase,
  resolveDatabaseUrl,
  seed,
} from "@pshub/db";
import { createOpsSubgraph } from "@pshub/subgraph-ops";
import { sql } from "drizzle-orm";
import { REPO_ROOT } from "./support/processes.ts";
import { median, spread } from "./support/stats.ts";

const { values: args } = parseArgs({
  options: {
    scale: { type: "string", default: "40" },
    rounds: { type: "string", default: "5" },
    quick: { type: "boolean", default: false },
    "no-record": { type: "boolean", default: false },
  },
});
const log = createLogger("bench-kpis");
const scale = args.quick ? 1 : Number(args.scale);
const rounds = Math.max(1, Number(args.rounds));
const AS_OF = "2026-11-20";
const loads: number[] = [];
const sampleLoad = () => loads.push(loadavg()[0] ?? Number.NaN);

const FIELDS: Record<string, string> = {
  unbilled:
    "unbilled { legalEntity customerId contractId currency kind ageBucket items hours amount }",
  receivables:
    "receivables { legalEntity currency openInvoices outstanding current overdue1To30 overdue31To60 overdue61To90 overdue90Plus invoiced90Days dso }",
  invoiceCycleTime: "invoiceCycleTime { month legalEntity stage invoices p50Days p90Days }",
  syncHealth: "syncHealth { connector object lagMs errors pending }",
  openExceptions: "openExceptions { owner open slaBreached }",
};

const server = await resolveDatabaseUrl(log);
const DATABASE = "pshub_bench_kpis";
const url = await recreateDatabase(server.url, DATABASE);
const client = createDbClient(url, { max: 4 });
const asOf = sql`${AS_OF}::date`;
const FLOORS: Record<string, () => Promise<unknown>> = {
  unbilled: () =>
    client.db.execute(sql`select contract_id, currency, sum(amount) from (
      select contract_id, currency, amount from (${billableItems(sql`true`, asOf)}) x
      union all select contract_id, currency, amount from billing_event where status = 'READY') u
      group by 1, 2`),
  receivables: () =>
    client.db.execute(sql`select legal_entity_id, currency, count(*), sum(total - amount_paid),
      sum(total - amount_paid) filter (where due_on < ${asOf})
      from invoice where issued_on <= ${asOf} and status in ('ISSUED', 'POSTED', 'PARTIALLY_PAID', 'DISPUTED')
        and amount_paid < total group by 1, 2`),
  invoiceCycleTime: () =>
    client.db.execute(sql`select to_char(g, 'YYYY-MM'), percentile_cont(0.5) within group (order by i - g)
      from (select entity_id, min(occurred_at) filter (where type = 'invoice.created') as g,
              min(occurred_at) filter (where payload->>'to' = 'ISSUED') as i
            from domain_event where entity_type = 'invoice' group by 1) e
      where i is not null group by 1`),
  syncHealth: () =>
    client.db.execute(sql`select connector, object, lag_ms, error_count from sync_cursor`),
  openExceptions: () =>
    client.db.execute(sql`select owner, count(*), count(*) filter (where due_at < now())
      from sync_exception where status in ('OPEN', 'RETRYING') group by 1`),
};

try {
  process.stdout.write(`seeding the demo firm at scale ${scale}…\n`);
  const seeded = await seed.seedDemo(client.sql, { scale });
  await client.sql`analyze`;
  process.stdout.write(
    `seeded ${seeded.rows.time_entry ?? "?"} time entries, ${seeded.rows.invoice ?? "?"} invoices in ${seeded.seconds.toFixed(0)} s\n`,
  );
  const ops = createOpsSubgraph(client.db);
  const times: Record<string, { graph: number[]; floor: number[]; rows: number }> = {};
  for (const name of Object.keys(FIELDS)) times[name] = { graph: [], floor: [], rows: 0 };
  for (let round = 0; round < rounds; round++) {
    for (const [name, selection] of Object.entries(FIELDS)) {
      const cell = times[name]!;
      const graph = async () => {
        sampleLoad();
        const started = performance.now();
        const result = await ops.execute(
          `query($asOf: Date) { kpis(asOf: $asOf) { ${selection} } }`,
          {
            asOf: AS_OF,
          },
        );
        cell.graph.push(performance.now() - started);
        if (result.errors) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
        cell.rows = ((result.data?.kpis?.[name] ?? []) as unknown[]).length;
      };
      const floor = async () => {
        sampleLoad();
        const started = performance.now();
        await FLOORS[name]!();
        cell.floor.push(performance.now() - started);
      };
      if (round % 2 === 0) {
        await graph();
        await floor();
      } else {
        await floor();
        await graph();
      }
    }
  }
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `### kpis — ${date}, demo firm scale ${scale} (${seeded.rows.time_entry ?? "?"} time entries), ${rounds} interleaved rounds`,
    "",
    `Load average (1 min, sampled by the script before each run): median ${median(loads).toFixed(1)}, min ${Math.min(...loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)} on ${availableParallelism()} cores.`,
    "",
    "| KPI | rows | pshub `kpis` (graph) | plain aggregate SQL (floor) | aim |",
    "| --- | ---: | --- | --- | --- |",
    ...Object.entries(times).map(
      ([name, t]) =>
        `| ${name} | ${t.rows} | ${spread(t.graph, ms)} | ${spread(t.floor, ms)} | < 500 ms |`,
    ),
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (!args["no-record"])
    appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${lines.join("\n")}`);
} finally {
  await client.close();
  await server.stop();
}
