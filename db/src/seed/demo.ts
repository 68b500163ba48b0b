/**
 * The demo firm: "Ashford & Reyes", a consultancy invoicing from three legal entities (US, UK,
 * DE), with customers in a hierarchy, a sales pipeline in every stage, contracts in all four
 * billing models, projects with staffed resources, time and expenses in every state, milestones,
 * fee schedules, retainers, billing events, invoices in every status, payments, disputes, source
 * links to Salesforce / the PSA / the ERP, and a few open sync exceptions.
 *
 * Deterministic: the same `seed`, `scale` and `today` produce the same rows, ids and timestamps.
 * `scale` multiplies customers, contracts, resources and time (scale 1 ≈ 25 customers, ~25
 * contracts, ~5,000 time entries; scale 40 ≈ 1,000 contracts, ~200,000 time entries). Rows are
 * generated per customer and written set-based (see ./writer.ts), all in ONE transaction.
 *
 * Billing state relative to `today` (2026-11-20 by default):
 * - months up to two before today's (≤ 2026-09) are invoiced: billable T&M time and expenses are
 *   BILLED, their billing events INVOICED with one live invoice line each; retainer periods,
 *   due fee-schedule items and approved milestones likewise;
 * - last month (2026-10) is billed but not invoiced: its billing events are READY (the unbilled
 *   KPI), its items APPROVED;
 * - this month has APPROVED work with no billing event yet (for `runBilling`) and SUBMITTED work
 *   (for approvals).
 */

import { type CustomerInfo, DEFAULT_SEED, DEFAULT_TODAY, DemoContext } from "./demo/context.ts";
import { seedCustomer, seedCustomerDeals } from "./demo/customers.ts";
import { seedSyncExceptions } from "./demo/exceptions.ts";
import { seedLegalEntities, seedResources } from "./demo/firm.ts";
import { numberInvoices } from "./demo/invoices.ts";
import { buildLineage } from "./lineage.ts";
import { type Executor, enterBulkLoad, TABLE_ORDER, verifyForeignKeys } from "./writer.ts";

export { DEFAULT_SEED, DEFAULT_TODAY };

export interface SeedOptions {
  /** Size multiplier (default 1). */
  scale?: number;
  /** PRNG seed (default 20261120). */
  seed?: number;
  /** The demo's "today", YYYY-MM-DD (default 2026-11-20). */
  today?: string;
  /** Called as contracts are generated and rows written. */
  onProgress?: (progress: SeedProgress) => void;
}

export interface SeedProgress {
  customersDone: number;
  customersTotal: number;
  rowsWritten: number;
}

export interface SeedResult {
  scale: number;
  /** Rows written per table. */
  rows: Record<string, number>;
  totalRows: number;
  seconds: number;
}

export class DatabaseNotEmptyError extends Error {
  override name = "DatabaseNotEmptyError";
}

/** Seeds the demo firm. Throws {@link DatabaseNotEmptyError} when the database has customers. */
export async function seedDemo(sql: Executor, options: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const result = await transaction(sql, async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('pshub_seed'))`;
    await tx`set local synchronous_commit = off`;
    const [existing] = await tx<{ any: boolean }[]>`select exists(select 1 from customer) as any`;
    if (existing?.any) {
      throw new DatabaseNotEmptyError("the database already has customers; seed with --reset");
    }
    const bulk = await enterBulkLoad(tx);
    const result = await generate(new DemoContext(tx, options));
    if (bulk) await verifyForeignKeys(tx, TABLE_ORDER);
    return result;
  });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

/**
 * For `npm start`: seeds the demo at scale 1 when the database has no customers, else does
 * nothing. Safe to call from several processes at once (an advisory lock serialises them).
 */
export async function seedIfEmpty(sql: Executor): Promise<SeedResult | undefined> {
  try {
    return await seedDemo(sql);
  } catch (error) {
    if (error instanceof DatabaseNotEmptyError) return undefined;
    throw error;
  }
}

async function transaction<T>(sql: Executor, fn: (tx: Executor) => Promise<T>): Promise<T> {
  if ("begin" in sql) return (await sql.begin((tx) => fn(tx))) as T;
  return fn(sql);
}

async function generate(demo: DemoContext): Promise<Omit<SeedResult, "seconds">> {
  const entities = seedLegalEntities(demo);
  for (const entity of entities) seedResources(demo, entity);
  await demo.sink.flush();

  const customerCount = Math.max(4, Math.round(25 * demo.scale));
  let parent: CustomerInfo | undefined;
  for (let i = 0; i < customerCount; i++) {
    const position = i % 25;
    const inGroup = position < 15;
    const isParent = inGroup && position % 3 === 0;
    const customer = seedCustomer(
      demo,
      entities,
      isParent,
      inGroup && !isParent ? parent : undefined,
    );
    if (isParent) parent = customer;
    seedCustomerDeals(demo, customer, i);
    await demo.sink.maybeFlush();
    demo.options.onProgress?.({
      customersDone: i + 1,
      customersTotal: customerCount,
      rowsWritten: demo.rowsWritten,
    });
  }
  seedSyncExceptions(demo);
  await demo.sink.flush();
  await numberInvoices(demo);
  await buildLineage(demo.tx);
  const rows = { ...demo.sink.counts };
  const totalRows = Object.values(rows).reduce((sum, n) => sum + n, 0);
  demo.options.onProgress?.({
    customersDone: customerCount,
    customersTotal: customerCount,
    rowsWritten: totalRows,
  });
  return { scale: demo.scale, rows, totalRows };
}
