/**
 * `npm run bench -- billing [--contracts 1000] [--entries 200000] [--scales 0.25,1] [--no-record]`
 *
 * runBilling + generateInvoice (db/src/lifecycle, through `execute`: one transaction with audit,
 * idempotency and domain events) over a T&M book of `contracts` ACTIVE contracts with `entries`
 * APPROVED time entries (90 % billable), at each scale. Compared side by side with the floor: ONE
 * hand-written set-based INSERT … SELECT producing the same billing events (no state changes, no
 * domain events), best of two runs, rolled back. Reports seconds, rows/s and peak memory of this
 * process (RSS and heap), and appends the table to bench/RESULTS.md.
 */
import { appendFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  createDbClient,
  createLogger,
  execute,
  operations as op,
  recreateDatabase,
  resolveDatabaseUrl,
} from "@pshub/db";
import postgres from "postgres";
import { REPO_ROOT } from "./support/processes.ts";

const { values: args } = parseArgs({
  options: {
    contracts: { type: "string", default: "1000" },
    entries: { type: "string", default: "200000" },
    scales: { type: "string", default: "0.25,1" },
    "invoice-concurrency": { type: "string", default: "4" },
    "no-record": { type: "boolean", default: false },
  },
});
const log = createLogger("bench-billing");
const PERIOD_END = "2026-01-31";

/** The floor: the same billing events as runBilling's T&M rule, one statement, nothing else. */
const FLOOR = `
  insert into billing_event (contract_id, project_id, customer_id, source_type, source_id, period,
    description, quantity, rate, amount, currency, correlation_id)
  select c.id, te.project_id, c.customer_id, 'TIME', te.id, to_char(te.work_date, 'YYYY-MM'),
    'Time ' || te.work_date || ': ' || te.hours || ' h' || coalesce(' - ' || te.description, ''),
    te.hours, te.bill_rate, pshub_round_half_even(te.hours * te.bill_rate, 2), c.currency, c.correlation_id
  from time_entry te
  join project p on p.id = te.project_id
  join contract c on c.id = p.contract_id
  where te.status = 'APPROVED' and te.billable and te.work_date <= '${PERIOD_END}'
    and c.billing_model = 'TIME_AND_MATERIALS' and c.status in ('ACTIVE', 'COMPLETED')
  on conflict (source_type, source_id, period) do nothing`;

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

class Rollback extends Error {}

async function seed(sql: postgres.Sql, contracts: number, entries: number) {
  await sql.unsafe(`
    insert into legal_entity (code, name, country, currency, tax_jurisdiction, invoice_prefix)
    values ('BENCH', 'Bench Ltd', 'GB', 'USD', 'BENCH', 'B-');
    insert into tax_rate (jurisdiction, rate, valid_from) values ('BENCH', 0.2000, '2020-01-01');
    insert into customer (name, currency, tax_jurisdiction, legal_entity_id)
    select 'Customer ' || i, 'USD', 'BENCH', (select id from legal_entity where code = 'BENCH')
    from generate_series(1, ${contracts}) as i;
    insert into contract (number, customer_id, legal_entity_id, billing_model, total_value, currency,
      start_date, status, correlation_id)
    select 'CT-' || lpad(row_number() over (order by id)::text, 6, '0'), id, legal_entity_id,
      'TIME_AND_MATERIALS', 100000, 'USD', '2025-01-01', 'ACTIVE', gen_random_uuid()
    from customer;
    insert into project (code, name, contract_id, customer_id, currency, start_date, status, correlation_id)
    select 'P-' || substr(number, 4), 'Project ' || number, id, customer_id, 'USD', start_date, 'ACTIVE', correlation_id
    from contract;
    insert into resource (name, email, role, bill_rate, cost_rate, currency)
    select 'Consultant ' || i, 'c' || i || '@bench.test', 'Consultant', 150, 80, 'USD'
    from generate_series(1, 50) as i;`);
  await sql.unsafe(`
    with ps as (select array_agg(id order by code) as ids from project),
         rs as (select array_agg(id order by email) as ids from resource)
    insert into time_entry (project_id, resource_id, work_date, hours, billable, bill_rate, currency,
      status, approved_at, approved_by)
    select ps.ids[1 + i % ${contracts}], rs.ids[1 + i % 50], date '2026-01-01' + (i % 28),
      0.25 * (1 + (i / 7) % 32), (i / ${contracts}) % 10 <> 0, 100 + (i % 7) * 12.35, 'USD',
      'APPROVED', now(), 'bench'
    from generate_series(1, ${entries}) as i, ps, rs`);
  await sql.unsafe("vacuum analyze");
}

interface Row {
  scale: string;
  contracts: number;
  entries: number;
  events: number;
  floor: Awaited<ReturnType<typeof measured>>;
  billing: Awaited<ReturnType<typeof measured>>;
  invoicing: Awaited<ReturnType<typeof measured>> & { invoices: number; lines: number };
}

const rows: Row[] = [];
const server = await resolveDatabaseUrl(log);
try {
  for (const scale of String(args.scales).split(",").map(Number)) {
    const contracts = Math.max(1, Math.round(Number(args.contracts) * scale));
    const entries = Math.max(1, Math.round(Number(args.entries) * scale));
    const benchDb = "pshub_bench_billing";
    const url = await recreateDatabase(server.url, benchDb);
    const client = createDbClient(url, { max: Number(args["invoice-concurrency"]) + 2 });
    try {
      process.stdout.write(
        `scale ${scale}: seeding ${contracts} contracts, ${entries} time entries…\n`,
      );
      await seed(client.sql, contracts, entries);

      // The floor, twice (the first also warms the cache), rolled back; keep the faster.
      let floor: Awaited<ReturnType<typeof measured>> | undefined;
      for (let i = 0; i < 2; i++) {
        const run = await measured(async () => {
          let count = 0;
          await client.sql
            .begin(async (tx) => {
              const result = await tx.unsafe(FLOOR);
              count = result.count;
              throw new Rollback();
            })
            .catch((e) => {
              if (!(e instanceof Rollback)) throw e;
            });
          return count;
        });
        if (!floor || run.seconds < floor.seconds) floor = run;
      }

      const billing = await measured(() =>
        execute(client.db, op.runBilling, { actor: "bench" }, { periodEnd: PERIOD_END }),
      );
      if (billing.value.eventsCreated !== floor!.value) {
        throw new Error(
          `runBilling made ${billing.value.eventsCreated} events, the floor ${floor!.value}`,
        );
      }

      const ids = (await client.sql<{ id: string }[]>`select id from contract order by number`).map(
        (r) => r.id,
      );
      const invoicing = await measured(async () => {
        let next = 0;
        let lines = 0;
        const worker = async () => {
          while (next < ids.length) {
            const contractId = ids[next++]!;
            await execute(
              client.db,
              op.generateInvoice,
              { actor: "bench" },
              { contractId, periodEnd: PERIOD_END },
            );
          }
        };
        await Promise.all(Array.from({ length: Number(args["invoice-concurrency"]) }, worker));
        const [row] = await client.sql`select count(*)::int as n from invoice_line`;
        lines = row!.n;
        return { invoices: ids.length, lines };
      });
      const [check] = await client.sql`
        select count(*)::int as bad from invoice i
        where i.total <> i.subtotal + i.tax
          or i.subtotal <> (select sum(amount) from invoice_line l where l.invoice_id = i.id)`;
      if (check!.bad !== 0) throw new Error(`${check!.bad} invoices with wrong totals`);
      rows.push({
        scale: String(scale),
        contracts,
        entries,
        events: billing.value.eventsCreated,
        floor: floor!,
        billing,
        invoicing: { ...invoicing, ...invoicing.value },
      });
    } finally {
      await client.close();
    }
  }
} finally {
  await server.stop();
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const k = (n: number) => `${Math.round(n / 1000)}k`;
const lines = [
  "| contracts | approved entries | billing events | floor s (rows/s) | runBilling s (rows/s) | ratio | runBilling peak RSS MB / heap +MB | generateInvoice × contracts s (invoices/s, lines/s) | generateInvoice peak RSS MB / heap +MB |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.contracts} | ${r.entries} | ${r.events} | ${f2(r.floor.seconds)} (${k(r.events / r.floor.seconds)}) | ${f2(r.billing.seconds)} (${k(r.events / r.billing.seconds)}) | ${f2(r.billing.seconds / r.floor.seconds)}× | ${f1(r.billing.peakRssMb)} / ${f1(r.billing.heapGrowthMb)} | ${f2(r.invoicing.seconds)} (${f1(r.invoicing.invoices / r.invoicing.seconds)}, ${k(r.invoicing.lines / r.invoicing.seconds)}) | ${f1(r.invoicing.peakRssMb)} / ${f1(r.invoicing.heapGrowthMb)} |`,
  ),
];
const table = lines.join("\n");
const header = `## billing — ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}

runBilling (all contracts, period end ${PERIOD_END}) then generateInvoice for every contract (${args["invoice-concurrency"]} at a time), both through \`execute\` (one transaction each: idempotency, audit, domain events; runBilling also marks the entries BILLED and emits one billing_event.created per event). Floor: one INSERT … SELECT of the same billing events, best of 2, rolled back. T&M book: ACTIVE contracts, one project each, APPROVED entries over 28 days (90 % billable). Memory: this process (Postgres not included).
Machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}, shared with other work.
`;
process.stdout.write(`\n${header}\n${table}\n`);
if (!args["no-record"]) {
  appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${header}\n${table}\n`);
  process.stdout.write("\nappended to bench/RESULTS.md\n");
}
process.exit(0);
