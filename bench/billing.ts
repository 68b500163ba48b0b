/**
 * `npm run bench -- billing [--contracts 1000] [--entries 200000] [--scales 0.25,1] [--rounds 5]
 *   [--quick] [--no-record] [--explain] [--invoice-only]`
 *
 * runBilling (db/src/lifecycle, through `execute`: one transaction with audit, idempotency and
 * domain events; it marks what it bills BILLED and emits one billing_event.created per event)
 * against the floor: the same state change and nothing else — one INSERT … SELECT per rule (the
 * candidate queries of billable.ts, all four billing models) and the BILLED marking as one UPDATE
 * per source table, in one transaction; no domain events, audit, idempotency or statistics. A step
 * between, "floor + domain events", adds one billing_event.created per event to the floor's
 * inserts. After every run the bench takes a checksum of what it left (the billing events' columns
 * and every source row's status and version, md5) and fails unless the floor, the step and
 * runBilling left the same; the md5 is printed in the table.
 *
 * The book has all four billing models: 70 % TIME_AND_MATERIALS (approved time entries, 90 %
 * billable, and expenses), 10 % FIXED_FEE (fee schedule items, three of four due), 10 % RETAINER
 * (monthly retainer, half prorated DAILY, time entries whose hours beyond the retainer are
 * overage), 10 % MILESTONE (two approved milestones of three). It is seeded once per scale into
 * a template database; every measured run gets a fresh copy (CREATE DATABASE … TEMPLATE), so the
 * floor and runBilling see the same state. All three run `rounds` times, interleaved (the order
 * rotates each round); the table gives the median and min–max of each, and of the per-round ratio.
 * generateInvoice for every contract runs once per scale after the last round (no floor).
 * Memory: this process (Postgres not included). Load average: sampled before every run.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  billableContract,
  createDbClient,
  createLogger,
  type Db,
  execute,
  expenseItems,
  fixedFeeItems,
  milestoneItems,
  operations as op,
  recreateDatabase,
  resolveDatabaseUrl,
  retainerItems,
  retainerOverageItems,
  type Tx,
  timeItems,
  withDatabase,
} from "@pshub/db";
import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { REPO_ROOT } from "./support/processes.ts";
import { median, spread } from "./support/stats.ts";

const { values: args } = parseArgs({
  options: {
    contracts: { type: "string", default: "1000" },
    entries: { type: "string", default: "200000" },
    scales: { type: "string", default: "0.25,1" },
    rounds: { type: "string", default: "5" },
    "invoice-concurrency": { type: "string", default: "4" },
    /** One small scale (50 contracts, 10k entries): a smoke run (still every round). */
    quick: { type: "boolean", default: false },
    "no-record": { type: "boolean", default: false },
    /**
     * Before the rounds, on fresh copies: EXPLAIN (ANALYZE, BUFFERS) of every floor statement and
     * of every statement runBilling sends (each rolled back), and a timed runBilling with the
     * time of each statement; printed, not recorded.
     */
    explain: { type: "boolean", default: false },
    /** Only the generateInvoice part (seed, runBilling once, generateInvoice × contracts). */
    "invoice-only": { type: "boolean", default: false },
  },
});
const log = createLogger("bench-billing");
const PERIOD_END = "2026-01-31";
const rounds = Math.max(1, Number(args.rounds));
const scales = (args.quick ? "0.05" : String(args.scales)).split(",").map(Number);
const loads: number[] = [];
const sampleLoad = () => {
  const value = loadavg()[0] ?? Number.NaN;
  loads.push(value);
  return value;
};

const periodEnd = sql`${PERIOD_END}::date`;
const everyContract = sql`true`;
/** An INSERT … SELECT of one rule's candidates (billable.ts), `returning` what a caller needs. */
const insertItems = (items: SQL, returning: SQL = sql`1`) => sql`
  insert into billing_event (contract_id, project_id, customer_id, source_type, source_id, period,
    description, quantity, rate, amount, currency, correlation_id)
  select contract_id, project_id, customer_id, source_type::billing_source_type, source_id, period,
    description, quantity, rate, amount, currency, correlation_id
  from (${items}) as candidates
  on conflict (source_type, source_id, period) do nothing
  returning ${returning}`;
/** Every rule's candidate list, the one definition in billable.ts, as runBilling runs them. */
const RULES: [string, SQL][] = [
  ["time", timeItems(everyContract, periodEnd)],
  ["expenses", expenseItems(everyContract, periodEnd)],
  ["fixed fees", fixedFeeItems(everyContract, periodEnd)],
  ["milestones", milestoneItems(everyContract)],
  ["retainers", retainerItems(everyContract, periodEnd)],
  ["retainer overage", retainerOverageItems(everyContract, periodEnd)],
];
/**
 * The BILLED marking, one set-based UPDATE per source table, after every insert: time entries of
 * T&M and retainer contracts (every approved billable entry up to the period end: each has its
 * event, or is covered by the retainer), and the expenses, fee items and milestones that got an
 * event. The end state is checked identical to runBilling's (see `checksum`).
 */
const MARKING: [string, SQL][] = [
  [
    "mark time entries",
    sql`update time_entry te set status = 'BILLED', version = te.version + 1, updated_at = now()
      from project p join contract c on c.id = p.contract_id
      where p.id = te.project_id and te.status = 'APPROVED' and te.billable and te.work_date <= ${periodEnd}
        and c.billing_model in ('TIME_AND_MATERIALS', 'RETAINER') and ${billableContract}`,
  ],
  ...(
    [
      ["expense", "e", "EXPENSE", "APPROVED"],
      ["fee_schedule_item", "f", "FIXED_FEE", "SCHEDULED"],
      ["milestone", "m", "MILESTONE", "APPROVED"],
    ] as const
  ).map(([table, alias, source, from]): [string, SQL] => [
    `mark ${table}`,
    sql.raw(`update ${table} ${alias} set status = 'BILLED', version = ${alias}.version + 1, updated_at = now()
      from billing_event b where b.source_type = '${source}' and b.source_id = ${alias}.id
        and ${alias}.status = '${from}'`),
  ]),
];
/**
 * The floor: the same state change as runBilling — every rule's INSERT … SELECT (the candidate
 * queries of billable.ts, one statement per rule) and the BILLED marking — in one transaction,
 * nothing else (no domain events, audit, idempotency or statistics).
 */
const FLOOR: [string, SQL][] = [
  ...RULES.map(([name, items]): [string, SQL] => [name, insertItems(items)]),
  ...MARKING,
];
/**
 * Not a floor, a step between: the floor plus one billing_event.created domain event per event
 * (as runBilling writes them, in the same statement), so the table shows what the domain events
 * cost and what is left for the audit, the statistics and the statement shapes.
 */
const FLOOR_WITH_EVENTS: [string, SQL][] = [
  ...RULES.map(([name, items]): [string, SQL] => [
    name,
    sql`with ins as (${insertItems(items, sql`id, contract_id, project_id, source_type, source_id, period, amount, currency, correlation_id`)}),
    events as (
      insert into domain_event (type, entity_type, entity_id, payload, correlation_id, causation_id, actor)
      select 'billing_event.created', 'billing_event', ins.id,
        jsonb_build_object('contractId', ins.contract_id, 'projectId', ins.project_id,
          'sourceType', ins.source_type, 'sourceId', ins.source_id, 'period', ins.period,
          'amount', ins.amount::text, 'currency', ins.currency),
        ins.correlation_id, null, 'bench'
      from ins
      returning 1
    )
    select count(*)::int as n from ins`,
  ]),
  ...MARKING,
];

/** Runs statements in one transaction. */
async function runStatements(db: Db, statements: [string, SQL][]): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [, statement] of statements) await tx.execute(statement);
  });
}

/**
 * What a run left behind, to check that the floor and runBilling did the same work: the billing
 * events (every column but the id and timestamps) and the status and version of every source row,
 * each as a count and an md5; the billing_event.created domain events by count.
 */
async function checksum(db: Db) {
  const [row] = await db.execute<Record<string, string | number>>(sql`
    select
      (select count(*)::int from billing_event) as events,
      (select md5(string_agg(concat_ws('|', source_type, source_id, period, contract_id, project_id,
         customer_id, description, quantity, rate, amount, currency, correlation_id, status), chr(10)
         order by source_type, source_id, period)) from billing_event) as events_md5,
      (select sum(amount)::text from billing_event) as amount,
      (select md5(string_agg(concat_ws(':', id, status, version), ',' order by id)) from time_entry) as time_md5,
      (select count(*)::int from time_entry where status = 'BILLED') as time_billed,
      (select md5(string_agg(concat_ws(':', id, status, version), ',' order by id)) from expense) as expense_md5,
      (select md5(string_agg(concat_ws(':', id, status, version), ',' order by id)) from fee_schedule_item) as fee_md5,
      (select md5(string_agg(concat_ws(':', id, status, version), ',' order by id)) from milestone) as milestone_md5,
      (select count(*)::int from domain_event where type = 'billing_event.created') as created_events`);
  return row ?? {};
}

/**
 * CPU seconds (user + system) a Postgres backend on this machine has used so far, from
 * /proc/<pid>/stat (in USER_HZ ticks, 100 a second on Linux): unlike the wall time, it hardly
 * moves with the machine's load. NaN when the server is not local.
 */
function backendCpuSeconds(pid: number | readonly number[] | undefined): number {
  if (Array.isArray(pid)) return pid.reduce((sum, one) => sum + backendCpuSeconds(one), 0);
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Samples this process's memory while `fn` runs, and the CPU time of `backendPid` (the one
 * Postgres backend the run uses) and of this process.
 */
async function measured<T>(fn: () => Promise<T>, backendPid?: number | readonly number[]) {
  global.gc?.();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 10);
  const started = performance.now();
  const pgCpu = backendCpuSeconds(backendPid);
  const nodeCpu = process.cpuUsage();
  try {
    const value = await fn();
    const node = process.cpuUsage(nodeCpu);
    return {
      value,
      seconds: (performance.now() - started) / 1000,
      pgCpuSeconds: backendCpuSeconds(backendPid) - pgCpu,
      nodeCpuSeconds: (node.user + node.system) / 1e6,
      peakRssMb: rss / 2 ** 20,
      heapGrowthMb: (heap - base.heapUsed) / 2 ** 20,
    };
  } finally {
    clearInterval(timer);
  }
}
type Measured = Awaited<ReturnType<typeof measured>>;

async function seed(sql: postgres.Sql, contracts: number, entries: number) {
  await sql.unsafe(`
    insert into legal_entity (code, name, country, currency, tax_jurisdiction, invoice_prefix)
    values ('BENCH', 'Bench Ltd', 'GB', 'USD', 'BENCH', 'B-');
    insert into tax_rate (jurisdiction, rate, valid_from) values ('BENCH', 0.2000, '2020-01-01');
    insert into customer (name, currency, tax_jurisdiction, legal_entity_id)
    select 'Customer ' || i, 'USD', 'BENCH', (select id from legal_entity where code = 'BENCH')
    from generate_series(1, ${contracts}) as i;
    insert into contract (number, customer_id, legal_entity_id, billing_model, total_value, currency,
      retainer_amount, retainer_hours, retainer_proration, start_date, status, correlation_id)
    select 'CT-' || lpad(n::text, 6, '0'), id, legal_entity_id, model::billing_model, 100000, 'USD',
      case when model = 'RETAINER' then 5000 end, case when model = 'RETAINER' then 40 end,
      (case when model = 'RETAINER' and n % 20 = 8 then 'DAILY' else 'NONE' end)::retainer_proration,
      case when model = 'RETAINER' then date '2025-11-15' else date '2025-01-01' end,
      'ACTIVE', gen_random_uuid()
    from (
      select id, legal_entity_id, n,
        case when n % 10 < 7 then 'TIME_AND_MATERIALS' when n % 10 = 7 then 'FIXED_FEE'
             when n % 10 = 8 then 'RETAINER' else 'MILESTONE' end as model
      from (select id, legal_entity_id, row_number() over (order by id) as n from customer) as numbered
    ) as c;
    insert into project (code, name, contract_id, customer_id, currency, start_date, status, correlation_id)
    select 'P-' || substr(number, 4), 'Project ' || number, id, customer_id, 'USD', start_date, 'ACTIVE', correlation_id
    from contract;
    insert into resource (name, email, role, bill_rate, cost_rate, currency)
    select 'Consultant ' || i, 'c' || i || '@bench.test', 'Consultant', 150, 80, 'USD'
    from generate_series(1, 50) as i;
    insert into fee_schedule_item (contract_id, description, due_date, amount, currency)
    select c.id, 'Instalment ' || k, date '2025-11-01' + (k - 1) * interval '1 month', 2500, 'USD'
    from contract c, generate_series(1, 4) as k where c.billing_model = 'FIXED_FEE';
    insert into milestone (project_id, name, amount, currency, due_date, completed_on, approved_at,
      approved_by, status)
    select p.id, 'Milestone ' || k, 4000 + k * 250, 'USD', date '2026-01-10' + k,
      case when k < 3 then date '2026-01-10' + k end, case when k < 3 then now() end,
      case when k < 3 then 'bench' end, (case when k < 3 then 'APPROVED' else 'OPEN' end)::milestone_status
    from project p join contract c on c.id = p.contract_id, generate_series(1, 3) as k
    where c.billing_model = 'MILESTONE';`);
  // Time entries on T&M and retainer projects; expenses one for every 20 entries.
  await sql.unsafe(`
    with ps as (select array_agg(p.id order by p.code) as ids, count(*)::int as n from project p
                join contract c on c.id = p.contract_id
                where c.billing_model in ('TIME_AND_MATERIALS', 'RETAINER')),
         rs as (select array_agg(id order by email) as ids from resource)
    insert into time_entry (project_id, resource_id, work_date, hours, billable, bill_rate, currency,
      status, approved_at, approved_by)
    select ps.ids[1 + i % ps.n], rs.ids[1 + i % 50], date '2026-01-01' + (i % 28),
      0.25 * (1 + (i / 7) % 32), (i / ps.n) % 10 <> 0, 100 + (i % 7) * 12.35, 'USD',
      'APPROVED', now(), 'bench'
    from generate_series(1, ${entries}) as i, ps, rs;
    with ps as (select array_agg(p.id order by p.code) as ids, count(*)::int as n from project p
                join contract c on c.id = p.contract_id
                where c.billing_model in ('TIME_AND_MATERIALS', 'RETAINER')),
         rs as (select array_agg(id order by email) as ids from resource)
    insert into expense (project_id, resource_id, incurred_on, amount, currency, category, billable,
      status, approved_at, approved_by)
    select ps.ids[1 + i % ps.n], rs.ids[1 + i % 50], date '2026-01-01' + (i % 28),
      20 + (i % 13) * 7.5, 'USD', 'Travel', i % 10 <> 0, 'APPROVED', now(), 'bench'
    from generate_series(1, ${Math.max(1, Math.round(entries / 20))}) as i, ps, rs;`);
  await sql.unsafe("vacuum analyze");
}

interface Row {
  contracts: number;
  entries: number;
  events: number;
  bySourceType: Record<string, number>;
  floor: Measured[];
  withEvents: Measured[];
  billing: Measured[];
  ratios: number[];
  /** runBilling ÷ floor in the Postgres backend's CPU seconds, per round. */
  cpuRatios: number[];
  /** md5 of the billing events runBilling (and every floor) left, the first 12 digits. */
  checksum: string;
  invoicing: Measured & { invoices: number; lines: number };
}

/** The text of a drizzle statement (for the plans and timings `--explain` prints). */
const dialect = new PgDialect({ casing: "snake_case" });
const text = (statement: SQL) => dialect.sqlToQuery(statement).sql.replace(/\s+/g, " ").trim();

/** `--explain`: the plan of every statement of the floor and of runBilling, and their times. */
async function explain() {
  const plan = async (tx: Tx, name: string, statement: SQL) => {
    const rows = await tx.execute<{ "QUERY PLAN": string }>(
      sql`explain (analyze, buffers, settings) ${statement}`,
    );
    process.stdout.write(`\n--- ${name}\n${rows.map((r) => r["QUERY PLAN"]).join("\n")}\n`);
  };
  const rollback = new Error("rollback");
  for (const [title, statements] of [
    ["floor", FLOOR],
    ["floor + domain events", FLOOR_WITH_EVENTS],
  ] as const) {
    const client = await freshCopy();
    process.stdout.write(`\n=== ${title}: EXPLAIN ANALYZE, one transaction, rolled back\n`);
    await client.db
      .transaction(async (tx) => {
        for (const [name, statement] of statements) await plan(tx, name, statement);
        throw rollback;
      })
      .catch((error) => {
        if (error !== rollback) throw error;
      });
    await client.close();
  }
  {
    // runBilling's own statements: its writes are explained (and run) in order; its reads pass.
    const client = await freshCopy();
    process.stdout.write("\n=== runBilling: EXPLAIN ANALYZE of its writes, rolled back\n");
    let n = 0;
    await client.db
      .transaction(async (tx) => {
        const explaining = new Proxy(tx, {
          get(target, prop, receiver) {
            if (prop !== "execute") return Reflect.get(target, prop, receiver);
            return async (statement: SQL) => {
              if (!/^(with|update|insert)\b/i.test(text(statement))) return tx.execute(statement);
              await plan(tx, `runBilling statement ${++n}`, statement);
              return [];
            };
          },
        });
        await op.runBilling.run(explaining, { actor: "bench" }, { periodEnd: PERIOD_END });
        throw rollback;
      })
      .catch((error) => {
        if (error !== rollback) throw error;
      });
    await client.close();
  }
  {
    // A real runBilling (through execute), each statement of its run timed as the driver sees it;
    // the rest (begin, audit row, commit) is the difference.
    const client = await freshCopy();
    const times: [string, number][] = [];
    const timed = {
      ...op.runBilling,
      run: (...[tx, ctx, input]: Parameters<typeof op.runBilling.run>) =>
        op.runBilling.run(
          new Proxy(tx, {
            get(target, prop, receiver) {
              if (prop !== "execute") return Reflect.get(target, prop, receiver);
              return async (statement: SQL) => {
                const started = performance.now();
                try {
                  return await tx.execute(statement);
                } finally {
                  times.push([text(statement), performance.now() - started]);
                }
              };
            },
          }),
          ctx,
          input,
        ),
    };
    const started = performance.now();
    await execute(client.db, timed, { actor: "bench" }, { periodEnd: PERIOD_END });
    const total = performance.now() - started;
    process.stdout.write(`\n=== runBilling through execute: ${(total / 1000).toFixed(2)} s\n`);
    for (const [query, ms] of times)
      process.stdout.write(`${(ms / 1000).toFixed(3).padStart(8)} s  ${query.slice(0, 110)}\n`);
    const rest = total - times.reduce((sum, [, ms]) => sum + ms, 0);
    process.stdout.write(
      `${(rest / 1000).toFixed(3).padStart(8)} s  (the rest: begin, audit, commit)\n`,
    );
    await client.close();
  }
}

const rows: Row[] = [];
const server = await resolveDatabaseUrl(log);
const admin = postgres(server.url, { max: 1, onnotice: () => {} });
// Named by this process, so that two runs (or a run and a leftover of a killed one) never drop
// each other's databases.
const TEMPLATE = `pshub_bench_billing_tpl_${process.pid}`;
const RUN = `pshub_bench_billing_${process.pid}`;
/** A fresh copy of the seeded template, and a client on it. */
async function freshCopy(max = 4) {
  await admin.unsafe(`drop database if exists "${RUN}" with (force)`);
  await admin.unsafe(`create database "${RUN}" template "${TEMPLATE}"`);
  return createDbClient(withDatabase(server.url, RUN), { max });
}
try {
  for (const scale of scales) {
    const contracts = Math.max(10, Math.round(Number(args.contracts) * scale));
    const entries = Math.max(100, Math.round(Number(args.entries) * scale));
    process.stdout.write(
      `scale ${scale}: seeding ${contracts} contracts, ${entries} time entries…\n`,
    );
    const templateUrl = await recreateDatabase(server.url, TEMPLATE);
    const seeder = createDbClient(templateUrl, { max: 1 });
    await seed(seeder.sql, contracts, entries);
    await seeder.close();

    if (args.explain) await explain();

    const floor: Measured[] = [];
    const withEvents: Measured[] = [];
    const billing: Measured[] = [];
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    let events = 0;
    let checked: Record<string, string | number> | undefined;
    let bySourceType: Record<string, number> = {};
    let last: Awaited<ReturnType<typeof freshCopy>> | undefined;
    for (let round = 0; round < (args["invoice-only"] ? 0 : rounds); round++) {
      const kinds = ["floor", "events", "billing"] as const;
      // Rotate the order each round, so that no kind always runs first (or last).
      const order = kinds.map(
        (_, i) => kinds[(i + round) % kinds.length] as (typeof kinds)[number],
      );
      const pair: Partial<Record<(typeof kinds)[number], Measured>> = {};
      const sums: Partial<Record<(typeof kinds)[number], Record<string, string | number>>> = {};
      for (const which of order) {
        await last?.close();
        // One connection: its backend does all of the run's work, and its CPU time is measured.
        const client = await freshCopy(1);
        last = client;
        const [backend] = await client.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
        const load = sampleLoad();
        if (which === "billing") {
          const run = await measured(
            () => execute(client.db, op.runBilling, { actor: "bench" }, { periodEnd: PERIOD_END }),
            backend?.pid,
          );
          pair.billing = run;
          billing.push(run);
          events = run.value.eventsCreated;
          bySourceType = run.value.bySourceType;
        } else {
          const run = await measured(
            () => runStatements(client.db, which === "floor" ? FLOOR : FLOOR_WITH_EVENTS),
            backend?.pid,
          );
          pair[which] = run;
          (which === "floor" ? floor : withEvents).push(run);
        }
        sums[which] = await checksum(client.db);
        process.stdout.write(
          `scale ${scale} round ${round + 1}/${rounds} ${which.padEnd(7)} ${pair[which]?.seconds.toFixed(2)} s, Postgres CPU ${pair[which]?.pgCpuSeconds.toFixed(2)} s  load ${load.toFixed(1)}\n`,
        );
      }
      // The same work: the same billing events (md5 over their columns) and source rows.
      const { created_events: billingCreated, ...expected } = sums.billing ?? {};
      for (const which of ["floor", "events"] as const) {
        const { created_events: created, ...got } = sums[which] ?? {};
        const createdExpected = which === "floor" ? 0 : billingCreated;
        if (JSON.stringify(got) !== JSON.stringify(expected) || created !== createdExpected)
          throw new Error(
            `${which} left a different state from runBilling's:\n${JSON.stringify(sums[which])}\n${JSON.stringify(sums.billing)}`,
          );
      }
      if (billingCreated !== events || expected.events !== events)
        throw new Error(`runBilling reported ${events} events: ${JSON.stringify(sums.billing)}`);
      checked = sums.billing;
      ratios.push((pair.billing?.seconds ?? Number.NaN) / (pair.floor?.seconds ?? Number.NaN));
      cpuRatios.push(
        (pair.billing?.pgCpuSeconds ?? Number.NaN) / (pair.floor?.pgCpuSeconds ?? Number.NaN),
      );
    }
    // generateInvoice once, on a copy that runBilling has just billed.
    await last?.close();
    const connections = Number(args["invoice-concurrency"]) + 2;
    const client = await freshCopy(connections);
    try {
      const billed = await execute(
        client.db,
        op.runBilling,
        { actor: "bench" },
        { periodEnd: PERIOD_END },
      );
      if (args["invoice-only"]) events = billed.eventsCreated;
      const ids = (await client.sql<{ id: string }[]>`select id from contract order by number`).map(
        (r) => r.id,
      );
      // Open every connection of the pool (overlapping queries), so that the CPU time of all the
      // backends generateInvoice may use is measured.
      const backends = [
        ...new Set(
          (
            await Promise.all(
              Array.from(
                { length: connections },
                () => client.sql<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(0.2)`,
              ),
            )
          ).map(([row]) => row?.pid ?? 0),
        ),
      ];
      sampleLoad();
      const invoicing = await measured(async () => {
        let next = 0;
        const worker = async () => {
          while (next < ids.length) {
            const contractId = ids[next++] as string;
            await execute(
              client.db,
              op.generateInvoice,
              { actor: "bench" },
              { contractId, periodEnd: PERIOD_END },
            );
          }
        };
        await Promise.all(Array.from({ length: Number(args["invoice-concurrency"]) }, worker));
        const [row] = await client.sql<{ invoices: number; lines: number }[]>`
          select (select count(*)::int from invoice) as invoices, (select count(*)::int from invoice_line) as lines`;
        return { invoices: row?.invoices ?? 0, lines: row?.lines ?? 0 };
      }, backends);
      process.stdout.write(
        `scale ${scale} generateInvoice × ${ids.length}: ${invoicing.seconds.toFixed(2)} s, Postgres CPU ${invoicing.pgCpuSeconds.toFixed(2)} s (${backends.length} backends), node CPU ${invoicing.nodeCpuSeconds.toFixed(2)} s  load ${loadavg()[0]?.toFixed(1)}\n`,
      );
      const [check] = await client.sql<{ bad: number }[]>`
        select count(*)::int as bad from invoice i
        where i.total <> i.subtotal + i.tax
          or i.subtotal <> (select sum(amount) from invoice_line l where l.invoice_id = i.id)`;
      if (check?.bad !== 0) throw new Error(`${check?.bad} invoices with wrong totals`);
      rows.push({
        contracts,
        entries,
        events,
        bySourceType,
        floor,
        withEvents,
        billing,
        ratios,
        cpuRatios,
        checksum: String(checked?.events_md5).slice(0, 12),
        invoicing: { ...invoicing, ...invoicing.value },
      });
    } finally {
      await client.close();
    }
  }
  await admin.unsafe(`drop database if exists "${RUN}" with (force)`);
  await admin.unsafe(`drop database if exists "${TEMPLATE}" with (force)`);
} finally {
  await admin.end({ timeout: 5 });
  await server.stop();
}
sampleLoad();

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const k = (n: number) => `${Math.round(n / 1000)}k`;
const seconds = (runs: Measured[]) =>
  spread(
    runs.map((run) => run.seconds),
    f2,
  );
const cpu = (runs: Measured[]) =>
  spread(
    runs.map((run) => run.pgCpuSeconds),
    f2,
  );
const lines = [
  "| contracts | time entries | billing events (by source; md5) | floor s | floor + domain events s | runBilling s | runBilling ÷ floor | Postgres CPU s: floor | floor + domain events | runBilling | runBilling ÷ floor, CPU | runBilling events/s | runBilling peak RSS MB / heap +MB | generateInvoice × contracts s (invoices/s, lines/s), one run |",
  "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => {
    const sources = Object.entries(r.bySourceType)
      .filter(([, n]) => n > 0)
      .map(([source, n]) => `${source} ${n}`)
      .join(", ");
    return `| ${r.contracts} | ${r.entries} | ${r.events} (${sources}; md5 ${r.checksum}) | ${seconds(r.floor)} | ${seconds(r.withEvents)} | ${seconds(r.billing)} | ${spread(r.ratios, f2)}× | ${cpu(r.floor)} | ${cpu(r.withEvents)} | ${cpu(r.billing)} | ${spread(r.cpuRatios, f2)}× | ${k(r.events / median(r.billing.map((run) => run.seconds)))} | ${f1(median(r.billing.map((run) => run.peakRssMb)))} / ${f1(median(r.billing.map((run) => run.heapGrowthMb)))} | ${invoicingCell(r)} |`;
  }),
];
/** Wall s (invoices/s, lines/s); Postgres CPU s of every backend the pool used, and node's. */
function invoicingCell(r: Row) {
  const i = r.invoicing;
  return `${f2(i.seconds)} (${f1(i.invoices / i.seconds)}, ${k(i.lines / i.seconds)}); CPU Postgres ${f2(i.pgCpuSeconds)}, node ${f2(i.nodeCpuSeconds)}`;
}
const invoiceOnly = [
  "| contracts | time entries | billing events | invoices / lines | generateInvoice × contracts s (invoices/s, lines/s); CPU s: Postgres (every backend), this process |",
  "|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.contracts} | ${r.entries} | ${r.events} | ${r.invoicing.invoices} / ${r.invoicing.lines} | ${invoicingCell(r)} |`,
  ),
];
const table = (args["invoice-only"] ? invoiceOnly : lines).join("\n");
const header = `## billing — ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}${args.quick ? " (--quick)" : ""}${args["invoice-only"] ? " (--invoice-only: generateInvoice alone, after one runBilling; no rounds of the floor)" : ""}

runBilling (all contracts, period end ${PERIOD_END}, through \`execute\`: audit, idempotency, marks what it bills BILLED, one billing_event.created per event) against the floor: the same state change and nothing else, in one transaction — one INSERT … SELECT per rule (the candidate queries of billable.ts) and the BILLED marking as one UPDATE per source table; "floor + domain events" is the floor plus one billing_event.created per event (a step between, to show where runBilling's time goes). After every run the bench checks that all three left the same billing events and source rows (counts and md5, printed). Book: all four billing models (70 % T&M with time entries and expenses, 10 % fixed fee, 10 % retainer with overage, half prorated DAILY, 10 % milestone). Each run on a fresh copy of the seeded database (CREATE DATABASE … TEMPLATE); ${rounds} rounds, the three interleaved (order rotated each round); cells: median (min–max); the ratio per round, then median (min–max). Each run uses one connection; "Postgres CPU s" is the CPU time (user + system, /proc) of its backend during the run, which moves far less with the machine's load than the wall time (commit's WAL flush and the background writers are not in it). generateInvoice for every contract (${args["invoice-concurrency"]} at a time): one run per scale, after runBilling. Memory: this process (Postgres not included), median over rounds.
Machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}; Postgres on the same cores. Load average (1 min), sampled by this script before every run: median ${f1(median(loads))}, min ${f1(Math.min(...loads))}, max ${f1(Math.max(...loads))} (${loads.length} samples).
`;
process.stdout.write(`\n${header}\n${table}\n`);
if (!args["no-record"]) {
  appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${header}\n${table}\n`);
  process.stdout.write("\nappended to bench/RESULTS.md\n");
}
process.exit(0);
