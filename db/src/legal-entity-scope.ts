/**
 * Legal-entity scoping, in SQL: the one place that knows which legal entity a row belongs to.
 * Every loader, list, total and event filter of the hub asks this module for its condition, so a
 * principal limited to some legal entities (`Principal.legalEntities`, codes such as `UK`) sees
 * nothing of the others — the rows are never read, not filtered after the fetch.
 *
 * Glossary
 * - scope: the legal-entity codes a principal may see; `undefined` = every legal entity (no
 *   condition at all). An empty list sees nothing.
 * - owner path: how a table reaches its legal entity — its own `legal_entity_id`, or a foreign key
 *   to a parent table that does (contact → customer, time_entry → project → customer, …).
 * - entity reference: an (entity_type, entity_id) pair on the hub's own tables (domain events,
 *   audit, inbox, outbound commands, exceptions, source links, resync requests). `entity_type` is
 *   the table name (`invoice`, `time_entry`, …). A reference to no entity, or to an entity type
 *   without an owner path, is outside every scope: only an unscoped principal sees it.
 *
 * Reference data that belongs to no legal entity (tax rates, exchange rates, sync cursors and
 * their lag samples) has no condition.
 */
import { getTableName, type SQL, sql } from "drizzle-orm";
import { PgColumn, type PgTable } from "drizzle-orm/pg-core";
import * as s from "./schema.ts";
import { pgArray } from "./sql-array.ts";

/** The legal-entity codes a principal may see; undefined = all. */
export type LegalEntityScope = readonly string[] | undefined;

type Owner =
  /** The row's own legal-entity id column. */
  | { column: PgColumn }
  /** A foreign key to a parent table, whose owner path continues. */
  | { column: PgColumn; parent: PgTable };

/** How each table reaches its legal entity. A table not listed here has no scoped rows. */
const OWNERS = new Map<PgTable, Owner>([
  [s.legalEntity, { column: s.legalEntity.id }],
  [s.customer, { column: s.customer.legalEntityId }],
  [s.contact, { column: s.contact.customerId, parent: s.customer }],
  // An opportunity is the customer's, whatever entity it may later be contracted under.
  [s.opportunity, { column: s.opportunity.customerId, parent: s.customer }],
  // Contracts and invoices carry the issuing legal entity themselves.
  [s.contract, { column: s.contract.legalEntityId }],
  [s.feeScheduleItem, { column: s.feeScheduleItem.contractId, parent: s.contract }],
  [s.project, { column: s.project.contractId, parent: s.contract }],
  [s.milestone, { column: s.milestone.projectId, parent: s.project }],
  [s.resource, { column: s.resource.legalEntityId }],
  [s.assignment, { column: s.assignment.projectId, parent: s.project }],
  [s.timeEntry, { column: s.timeEntry.projectId, parent: s.project }],
  [s.expense, { column: s.expense.projectId, parent: s.project }],
  [s.billingEvent, { column: s.billingEvent.contractId, parent: s.contract }],
  [s.billingSchedule, { column: s.billingSchedule.contractId, parent: s.contract }],
  [s.billingRun, { column: s.billingRun.contractId, parent: s.contract }],
  [s.invoice, { column: s.invoice.legalEntityId }],
  [s.invoiceLine, { column: s.invoiceLine.invoiceId, parent: s.invoice }],
  [s.payment, { column: s.payment.invoiceId, parent: s.invoice }],
  [s.dispute, { column: s.dispute.invoiceId, parent: s.invoice }],
  // The KPI summaries (migration 0017) belong to their project's or invoice's legal entity.
  [s.kpiTimeMonth, { column: s.kpiTimeMonth.projectId, parent: s.project }],
  [s.kpiInvoiceCycle, { column: s.kpiInvoiceCycle.invoiceId, parent: s.invoice }],
]);

/** Tables that hold an entity reference (entity_type, entity_id) instead of an owner path. */
const REFERENCES = new Map<PgTable, { type: PgColumn; id: PgColumn }>([
  [s.domainEvent, { type: s.domainEvent.entityType, id: s.domainEvent.entityId }],
  [s.auditLog, { type: s.auditLog.entityType, id: s.auditLog.entityId }],
  [s.inboxEvent, { type: s.inboxEvent.entityType, id: s.inboxEvent.entityId }],
  [s.outboundCommand, { type: s.outboundCommand.entityType, id: s.outboundCommand.entityId }],
  [s.syncException, { type: s.syncException.entityType, id: s.syncException.entityId }],
  [s.sourceLink, { type: s.sourceLink.entityType, id: s.sourceLink.entityId }],
  [s.resyncRequest, { type: s.resyncRequest.entityType, id: s.resyncRequest.entityId }],
]);

/** Tables that belong to no legal entity: visible to every scope (roles still apply). */
const UNSCOPED = new Set<PgTable>([s.taxRate, s.syncCursor, s.syncLagSample, s.fxRate]);

/** The SQL name of a column: the schema names columns in camelCase, the client maps to snake_case. */
const columnName = (col: PgColumn) => col.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A column qualified by its table's name (the correlated subqueries below refer to it by name). */
const column = (table: PgTable, col: PgColumn) =>
  sql`${sql.identifier(getTableName(table))}.${sql.identifier(columnName(col))}`;

/** SQL for the legal-entity id of the current row of `table` (correlated to its name). */
function legalEntityIdOf(table: PgTable): SQL {
  const owner = OWNERS.get(table);
  if (!owner) throw new Error(`no legal-entity owner path for table ${getTableName(table)}`);
  if (!("parent" in owner)) return column(table, owner.column);
  const parentId = (owner.parent as unknown as { id: PgColumn }).id;
  return sql`(select ${legalEntityIdOf(owner.parent)} from ${sql.identifier(getTableName(owner.parent))} where ${column(owner.parent, parentId)} = ${column(table, owner.column)})`;
}

/** The ids of the scope's legal entities, as a subquery. */
const scopeIds = (scope: readonly string[]) =>
  sql`(select ${sql.identifier("legal_entity")}.${sql.identifier("id")} from ${sql.identifier("legal_entity")} where ${sql.identifier("legal_entity")}.${sql.identifier("code")} = any(${pgArray([...scope])}::text[]))`;

/** A column of a scoped statement's own table, qualified by that table's name. */
const asSql = (value: SQL | PgColumn): SQL =>
  value instanceof PgColumn ? column(value.table as unknown as PgTable, value) : value;

/**
 * The legal-entity id of the entity an (entity_type, entity_id) pair names, as SQL; null for a
 * type without an owner path.
 */
export function referencedLegalEntityId(type: SQL | PgColumn, id: SQL | PgColumn): SQL {
  // Only tables with an id are entities a reference can name (not the keyed KPI summaries).
  const entities = [...OWNERS.keys()].filter(
    (table) => (table as unknown as { id?: unknown }).id instanceof PgColumn,
  );
  const cases = entities.map((table) => {
    const name = getTableName(table);
    const tableId = (table as unknown as { id: PgColumn }).id;
    return sql`when ${name} then (select ${legalEntityIdOf(table)} from ${sql.identifier(name)} where ${column(table, tableId)} = ${asSql(id)})`;
  });
  return sql`(case ${asSql(type)} ${sql.join(cases, sql` `)} end)`;
}

/**
 * The condition that keeps only the rows of `table` inside `scope`; undefined when the scope is
 * all legal entities (or the table belongs to none). Use it in every statement that reads a
 * scoped table: `where(and(filter, inLegalEntityScope(customer, scope)))`.
 * Throws for a table this module does not know: a new table must be given its owner path here.
 */
export function inLegalEntityScope(table: PgTable, scope: LegalEntityScope): SQL | undefined {
  if (scope === undefined || UNSCOPED.has(table)) return undefined;
  if (scope.length === 0) return sql`false`;
  const reference = REFERENCES.get(table);
  if (reference)
    return sql`${referencedLegalEntityId(reference.type, reference.id)} in ${scopeIds(scope)}`;
  return sql`${legalEntityIdOf(table)} in ${scopeIds(scope)}`;
}

/**
 * The condition for an entity reference held in arbitrary columns or expressions (e.g. a
 * payload field), for statements over tables this module does not list.
 */
export function referenceInLegalEntityScope(
  type: SQL | PgColumn,
  id: SQL | PgColumn,
  scope: LegalEntityScope,
): SQL | undefined {
  if (scope === undefined) return undefined;
  if (scope.length === 0) return sql`false`;
  return sql`${referencedLegalEntityId(type, id)} in ${scopeIds(scope)}`;
}

/**
 * Tables no subgraph lists or loads for a caller: credentials, idempotency records, the invoice
 * number counters. They have no rule, and asking for one is an error.
 */
export const INTERNAL_TABLES = new Set<PgTable>([
  s.apiKey,
  s.idempotencyKey,
  s.invoiceNumberSeries,
]);

/** Whether `table` has a scoping rule (tests walk every table with it). */
export function hasLegalEntityRule(table: PgTable): boolean {
  return OWNERS.has(table) || REFERENCES.has(table) || UNSCOPED.has(table);
}
