/**
 * `npm run bench -- kpis [--scale 40] [--rounds 5] [--quick] [--no-record]`
 *
 * Query.kpis over the demo firm (`--scale 40` ≈ 200,000 time entries), one KPI field per
 * request through the ops subgraph (in-process execute: parse, validate, roles, scope, the
 * statement, serialisation), beside the floor: the plain aggregate SQL of the same figure (the
 * hand-written statements of subgraphs/ops/src/kpis.test.ts: no aging, no entity names, one
 * GROUP BY). Every round runs each KPI and its floor, interleaved (the order swaps each round);
 * the table gives median and min–max, and the graph ÷ floor ratio of each round. Load average: sampled by this script before every run.
 * The database is dropped at the end.
 */
import { appendFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  billableItems,
  createDbClient,
  createLogger,
  dropDatabase,
  recreateDatabase,
  resolveDatabaseUrl,
  seed,
  upsertFxRates,
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

const CONVERTED = "{ amount currency rate rateDate rateSource }";
const FIELDS: Record<string, string> = {
  unbilled: `unbilled { legalEntity customerId contractId currency kind ageBucket items hours amount amountConverted ${CONVERTED} }`,
  billingLeakage: `billingLeakage { kind itemId legalEntity contractId currency hours amount amountConverted ${CONVERTED} approvedOn ageDays reason detail }`,
  utilisation:
    "utilisation { legalEntity month approvedHours approvedBillableHours billedHours billableRatio billedRatio }",
  currencyTotals: `currencyTotals { measure currency amount converted ${CONVERTED} }`,
  receivables:
    "receivables { legalEntity currency openInvoices outstanding current overdue1To30 overdue31To60 overdue61To90 overdue90Plus invoiced90Days dso }",
  invoiceCycleTime: "invoiceCycleTime { month legalEntity stage invoices p50Days p90Days }",
  syncHealth:
    "syncHealth { connector object lagMs lagP50Ms24h lagP99Ms24h lagSamples24h errors pending }",
  openExceptions: "openExceptions { owner open slaBreached }",
};

const server = await resolveDatabaseUrl(log);
const DATABASE = "pshub_bench_kpis";
const url = await recreateDatabase(server.url, DATABASE);
const LEAKAGE_FLOOR = sql`
  select c.currency, count(*), sum(x.amount) from (
    select p.contract_id, te.hours * te.bill_rate as amount, coalesce(te.approved_at::date, te.work_date) as day
      from time_entry te join project p on p.id = te.project_id where te.status = 'APPROVED' and te.billable
    union all
    select p.contract_id, e.amount, coalesce(e.approved_at::date, e.incurred_on)
      from expense e join project p on p.id = e.project_id where e.status = 'APPROVED' and e.billable
    union all
    select contract_id, amount, created_at::date from billing_event where status = 'READY') x
  join contract c on c.id = x.contract_id
  where ${asOfSql()} - x.day > 30 group by 1`;
function asOfSql() {
  return sql`${AS_OF}::date`;
}
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
  billingLeakage: () => client.db.execute(LEAKAGE_FLOOR),
  utilisation: () =>
    client.db.execute(sql`select to_char(work_date, 'YYYY-MM'), sum(hours),
      sum(hours) filter (where billable), sum(hours) filter (where status = 'BILLED')
      from time_entry where status in ('APPROVED', 'BILLED') and work_date <= ${asOf} group by 1`),
  // The same three sums per currency, without conversion.
  currencyTotals: async () => {
    await FLOORS.unbilled!();
    await FLOORS.receivables!();
    await client.db.execute(LEAKAGE_FLOOR);
  },
  syncHealth: () =>
    client.db.execute(sql`select c.connector, c.object, c.lag_ms, c.error_count,
      percentile_disc(0.5) within group (order by s.lag_ms), percentile_disc(0.99) within group (order by s.lag_ms)
      from sync_cursor c left join sync_lag_sample s on s.connector = c.connector and s.object = c.object
        and s.sampled_at > now() - interval '24 hours'
      group by 1, 2, 3, 4`),
  openExceptions: () =>
    client.db.execute(sql`select owner, count(*), count(*) filter (where due_at < now())
      from sync_exception where status in ('OPEN', 'RETRYING') group by 1`),
};

try {
  process.stdout.write(`seeding the demo firm at scale ${scale}…\n`);
  const seeded = await seed.seedDemo(client.sql, { scale });
  // A day of sync history: 3 connectors × 5 objects, a cycle a minute (21,600 lag samples), and
  // month-start exchange rates against USD for the conversions.
  await client.sql`
    insert into sync_cursor (connector, object, lag_ms, last_success_at)
    select c, o, 1000, now() from unnest(array['salesforce', 'certinia', 'netsuite']) c,
      unnest(array['a', 'b', 'c', 'd', 'e']) o
    on conflict do nothing`;
  await client.sql`
    insert into sync_lag_sample (connector, object, lag_ms, sampled_at)
    select c.connector, c.object, (abs(hashtext(c.connector || c.object || m)) % 5000)::int,
           now() - make_interval(mins => m)
      from sync_cursor c, generate_series(1, 1440) m`;
  await client.db.transaction((tx) =>
    upsertFxRates(
      tx,
      ["2026-09-01", "2026-10-01", "2026-11-01"].flatMap((effectiveDate, i) => [
        { baseCurrency: "USD", currency: "EUR", rate: `1.07${i}1`, effectiveDate },
        { baseCurrency: "USD", currency: "GBP", rate: `1.26${i}3`, effectiveDate },
      ]),
      "FILE",
    ),
  );
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
    "| KPI | rows | pshub `kpis` (graph) | plain aggregate SQL (floor) | graph ÷ floor (per round) | aim |",
    "| --- | ---: | --- | --- | --- | --- |",
    ...Object.entries(times).map(
      ([name, t]) =>
        `| ${name} | ${t.rows} | ${spread(t.graph, ms)} | ${spread(t.floor, ms)} | ${spread(
          t.graph.map((g, i) => g / (t.floor[i] ?? Number.NaN)),
          (v) => `${v.toFixed(2)}×`,
        )} | < 500 ms |`,
    ),
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (!args["no-record"])
    appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${lines.join("\n")}`);
} finally {
  await client.close();
  await dropDatabase(server.url, DATABASE);
  await server.stop();
}
