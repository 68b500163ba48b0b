/**
 * `npm run bench -- billing [--contracts 1000] [--entries 200000] [--scales 0.25,1] [--rounds 5]
 *   [--quick] [--no-record]`
 *
 * runBilling (db/src/lifecycle, through `execute`: one transaction with audit, idempotency and
 * domain events; it marks what it bills BILLED and emits one billing_event.created per event)
 * against the floor: ONE INSERT … SELECT of the same billing events — the candidate rows of every
 * rule (billable.ts, all four billing models), nothing marked, no domain events — committed.
 *
 * The book has all four billing models: 70 % TIME_AND_MATERIALS (approved time entries, 90 %
 * billable, and expenses), 10 % FIXED_FEE (fee schedule items, three of four due), 10 % RETAINER
 * (monthly retainer, half prorated DAILY, time entries whose hours beyond the retainer are
 * overage), 10 % MILESTONE (two approved milestones of three). It is seeded once per scale into
 * a template database; every measured run gets a fresh copy (CREATE DATABASE … TEMPLATE), so the
 * floor and runBilling see the same state. Both run `rounds` times, interleaved (the order swaps
 * each round); the table gives the median and min–max of each, and of the per-round ratio.
 * generateInvoice for every contract runs once per scale after the last round (no floor).
 * Memory: this process (Postgres not included). Load average: sampled before every run.
 */
import { appendFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  billableItems,
  createDbClient,
  createLogger,
  execute,
  operations as op,
  recreateDatabase,
  resolveDatabaseUrl,
  withDatabase,
} from "@pshub/db";
import { sql } from "drizzle-orm";
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

/** The floor: every rule's candidates (the one definition in billable.ts), inserted at once. */
const FLOOR = sql`
  with ins as (
    insert into billing_event (contract_id, project_id, customer_id, source_type, source_id, period,
      description, quantity, rate, amount, currency, correlation_id)
    select contract_id, project_id, customer_id, source_type::billing_source_type, source_id, period,
      description, quantity, rate, amount, currency, correlation_id
    from (${billableItems(sql`true`, sql`${PERIOD_END}::date`)}) as candidates
    on conflict (source_type, source_id, period) do nothing
    returning 1
  )
  select count(*)::int as n from ins`;

/**
 * Not a floor, a step between: the floor plus one billing_event.created domain event per event
 * (as runBilling writes them), so the table shows what the domain events cost and what is left
 * for marking the sources BILLED, the per-rule statements and the audit.
 */
const FLOOR_WITH_EVENTS = sql`
  with ins as (
    insert into billing_event (contract_id, project_id, customer_id, source_type, source_id, period,
      description, quantity, rate, amount, currency, correlation_id)
    select contract_id, project_id, customer_id, source_type::billing_source_type, source_id, period,
      description, quantity, rate, amount, currency, correlation_id
    from (${billableItems(sql`true`, sql`${PERIOD_END}::date`)}) as candidates
    on conflict (source_type, source_id, period) do nothing
    returning id, contract_id, project_id, source_type, source_id, period, amount, currency, correlation_id
  ),
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
  select count(*)::int as n from ins`;

/** Samples this process's memory while `fn` runs. */
async function measured<T>(fn: () => Promise<T>) {
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
  try {
    const value = await fn();
    return {
      value,
      seconds: (performance.now() - started) / 1000,
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
  invoicing: Measured & { invoices: number; lines: number };
}

const rows: Row[] = [];
const server = await resolveDatabaseUrl(log);
const admin = postgres(server.url, { max: 1, onnotice: () => {} });
const TEMPLATE = "pshub_bench_billing_tpl";
const RUN = "pshub_bench_billing";
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

    const floor: Measured[] = [];
    const withEvents: Measured[] = [];
    const billing: Measured[] = [];
    const ratios: number[] = [];
    let events = 0;
    let bySourceType: Record<string, number> = {};
    let last: Awaited<ReturnType<typeof freshCopy>> | undefined;
    for (let round = 0; round < rounds; round++) {
      const kinds = ["floor", "events", "billing"] as const;
      // Rotate the order each round, so that no kind always runs first (or last).
      const order = kinds.map(
        (_, i) => kinds[(i + round) % kinds.length] as (typeof kinds)[number],
      );
      const pair: Partial<Record<(typeof kinds)[number], Measured>> = {};
      for (const which of order) {
        await last?.close();
        const client = await freshCopy(Number(args["invoice-concurrency"]) + 2);
        last = client;
        const load = sampleLoad();
        if (which === "floor") {
          const run = await measured(async () => {
            const [row] = await client.db.execute<{ n: number }>(FLOOR);
            return row?.n ?? 0;
          });
          pair.floor = run;
          floor.push(run);
        } else if (which === "events") {
          const run = await measured(async () => {
            const [row] = await client.db.execute<{ n: number }>(FLOOR_WITH_EVENTS);
            return row?.n ?? 0;
          });
          pair.events = run;
          withEvents.push(run);
        } else {
          const run = await measured(() =>
            execute(client.db, op.runBilling, { actor: "bench" }, { periodEnd: PERIOD_END }),
          );
          pair.billing = run;
          billing.push(run);
          events = run.value.eventsCreated;
          bySourceType = run.value.bySourceType;
        }
        process.stdout.write(
          `scale ${scale} round ${round + 1}/${rounds} ${which.padEnd(7)} ${pair[which]?.seconds.toFixed(2)} s  load ${load.toFixed(1)}\n`,
        );
      }
      const floorEvents = pair.floor?.value as number;
      if (floorEvents !== events || pair.events?.value !== events)
        throw new Error(
          `runBilling made ${events} events, the floor ${floorEvents}, the floor + events ${pair.events?.value}`,
        );
      ratios.push((pair.billing?.seconds ?? Number.NaN) / (pair.floor?.seconds ?? Number.NaN));
    }
    // generateInvoice once, on a copy that runBilling has just billed.
    await last?.close();
    const client = await freshCopy(Number(args["invoice-concurrency"]) + 2);
    try {
      await execute(client.db, op.runBilling, { actor: "bench" }, { periodEnd: PERIOD_END });
      const ids = (await client.sql<{ id: string }[]>`select id from contract order by number`).map(
        (r) => r.id,
      );
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
      });
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
const lines = [
  "| contracts | time entries | billing events (by source) | floor s | floor + domain events s | runBilling s | runBilling ÷ floor | floor events/s | runBilling events/s | runBilling peak RSS MB / heap +MB | generateInvoice × contracts s (invoices/s, lines/s), one run |",
  "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => {
    const sources = Object.entries(r.bySourceType)
      .filter(([, n]) => n > 0)
      .map(([source, n]) => `${source} ${n}`)
      .join(", ");
    return `| ${r.contracts} | ${r.entries} | ${r.events} (${sources}) | ${seconds(r.floor)} | ${seconds(r.withEvents)} | ${seconds(r.billing)} | ${spread(r.ratios, f2)}× | ${k(r.events / median(r.floor.map((run) => run.seconds)))} | ${k(r.events / median(r.billing.map((run) => run.seconds)))} | ${f1(median(r.billing.map((run) => run.peakRssMb)))} / ${f1(median(r.billing.map((run) => run.heapGrowthMb)))} | ${f2(r.invoicing.seconds)} (${f1(r.invoicing.invoices / r.invoicing.seconds)}, ${k(r.invoicing.lines / r.invoicing.seconds)}) |`;
  }),
];
const table = lines.join("\n");
const header = `## billing — ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}${args.quick ? " (--quick)" : ""}

runBilling (all contracts, period end ${PERIOD_END}, through \`execute\`: audit, idempotency, marks what it bills BILLED, one billing_event.created per event) against the floor: one INSERT … SELECT of the same events (every rule's candidates from billable.ts), committed, nothing else; "floor + domain events" is the floor plus one billing_event.created per event (a step between, to show where runBilling's time goes). Book: all four billing models (70 % T&M with time entries and expenses, 10 % fixed fee, 10 % retainer with overage, half prorated DAILY, 10 % milestone). Each run on a fresh copy of the seeded database (CREATE DATABASE … TEMPLATE); ${rounds} rounds, the three interleaved (order rotated each round); cells: median (min–max); the ratio per round, then median (min–max). generateInvoice for every contract (${args["invoice-concurrency"]} at a time): one run per scale, after runBilling. Memory: this process (Postgres not included), median over rounds.
Machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}; Postgres on the same cores. Load average (1 min), sampled by this script before every run: median ${f1(median(loads))}, min ${f1(Math.min(...loads))}, max ${f1(Math.max(...loads))} (${loads.length} samples).
`;
process.stdout.write(`\n${header}\n${table}\n`);
if (!args["no-record"]) {
  appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${header}\n${table}\n`);
  process.stdout.write("\nappended to bench/RESULTS.md\n");
}
process.exit(0);
