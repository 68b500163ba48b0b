/**
 * "Overdue", defined once per entity and evaluated by the database clock (`now()`), never the
 * application's: the `overdue` fields and the `overdue` filters of the graph both use these
 * expressions, so a row's flag and the list it appears in can never disagree (even when a
 * service's clock drifts from the database's).
 *
 * - invoice: out with the customer (not DRAFT, PAID or VOID), its due date (a UTC day) is before
 *   today (UTC, database clock), and a balance remains;
 * - sync exception: still open (OPEN or RETRYING) and its SLA due time has passed.
 *
 * Both are null-safe booleans (`not <expr>` is the complement).
 */
import { inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { invoice, syncException } from "../schema.ts";

/** SQL boolean over `invoice`: the invoice is overdue (database clock). */
export const invoiceOverdueSql: SQL = sql`coalesce(${invoice.status} not in ('DRAFT', 'PAID', 'VOID') and ${invoice.dueOn} < (now() at time zone 'UTC')::date and ${invoice.amountPaid} < ${invoice.total}, false)`;

/** SQL boolean over `sync_exception`: the exception is overdue (database clock). */
export const syncExceptionOverdueSql: SQL = sql`coalesce(${syncException.status} in ('OPEN', 'RETRYING') and ${syncException.dueAt} < now(), false)`;

/** Overdue flags of many invoices in one statement (ids not found → false). */
export async function invoicesOverdue(db: Db, ids: readonly string[]): Promise<boolean[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: invoice.id, overdue: sql<boolean>`${invoiceOverdueSql}` })
    .from(invoice)
    .where(inArray(invoice.id, [...new Set(ids)]));
  const overdue = new Map(rows.map((r) => [r.id.toLowerCase(), r.overdue]));
  return ids.map((id) => overdue.get(id.toLowerCase()) ?? false);
}

/** Overdue flags of many sync exceptions in one statement (ids not found → false). */
export async function syncExceptionsOverdue(db: Db, ids: readonly string[]): Promise<boolean[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({ id: syncException.id, overdue: sql<boolean>`${syncExceptionOverdueSql}` })
    .from(syncException)
    .where(inArray(syncException.id, [...new Set(ids)]));
  const overdue = new Map(rows.map((r) => [r.id.toLowerCase(), r.overdue]));
  return ids.map((id) => overdue.get(id.toLowerCase()) ?? false);
}
