/**
 * Applies inbound canonical changes in the caller's transaction, set-based: per entity type one
 * statement loads the current rows, one inserts the new rows and one updates the changed ones
 * (per distinct column set), one upserts every source link, one inserts the domain events.
 * Lifecycle states move through the same operations the mutations use (approveTimeEntries,
 * completeMilestone, markInvoicePosted, recordPayment, …), never by writing `status` directly.
 *
 * Rules (DESIGN "Which system owns which state", ./entities.ts):
 * - a change older than the one last applied for the same source record is SKIPPED as stale;
 *   several changes of one record in a batch are merged in source-time order (partial updates
 *   merge; absent fields are never nulled);
 * - on an existing row, a field the source does not own is ignored (and reported) when it differs;
 *   a new row takes every mapped field (nothing to protect yet);
 * - a required parent that is not linked yet makes the change WAIT (`waitingFor`), retried when the
 *   parent is applied; an unknown record of an entity the source may not create, a transition the
 *   machine refuses, or a constraint the row breaks is FAILED with owner and remediation.
 * A failing statement is retried row by row inside savepoints, so one bad row fails alone.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Tx } from "../client.ts";
import { type DomainEventInput, emitDomainEvents } from "../domain-events.ts";
import { DomainError, InvalidTransitionError } from "../errors.ts";
import { groupBy } from "../group-by.ts";
import {
  activateProject,
  approveExpenses,
  approveMilestone,
  approveTimeEntries,
  completeMilestone,
  rejectExpenses,
  rejectTimeEntries,
} from "../lifecycle/delivery.ts";
import { markInvoicePosted, voidInvoice } from "../lifecycle/invoicing.ts";
import { type OperationContext, toDomainError } from "../lifecycle/operation.ts";
import { recordPayment } from "../lifecycle/payments.ts";
import { transitionRows } from "../lifecycle/rows.ts";
import * as schema from "../schema.ts";
import { pgArray, uuidArray } from "../sql-array.ts";
import { raiseSyncException } from "../sync-exceptions.ts";
import {
  type ColumnType,
  columnName,
  ENTITY_SPECS,
  type EntitySpec,
  type SyncEntityType,
  type SyncSystem,
  sqlType,
} from "./entities.ts";
import { parentKey } from "./inbox.ts";
import { statePath } from "./state-path.ts";

export type ExceptionOwnerName = "FINANCE" | "PROJECT_OPS" | "SALES_OPS" | "INTEGRATION";

export interface SyncParentRef {
  field: string;
  system: SyncSystem;
  object: string;
  externalId: string;
  entityType: SyncEntityType;
  required?: boolean;
  naturalKey?: { field: string; value: string };
}

/** One canonical change of one inbound record (see cdc/engine/types.ts CanonicalChange). */
export interface SyncChangeInput {
  inboxId: number;
  entityType: SyncEntityType;
  system: SyncSystem;
  object: string;
  externalId: string;
  fields: Record<string, unknown>;
  parents?: SyncParentRef[];
  state?: string;
  matchId?: string;
  matchOn?: { field: string; value: string };
  /** A parent field (one of `parents`) whose resolved hub id identifies the row when unlinked,
   *  tried before `matchOn`: a Salesforce Contract is the hub contract of its Opportunity. */
  matchParent?: string;
  create?: boolean;
  deleted?: boolean;
  sourceModifiedAt?: string | null;
}

export interface SyncFailure {
  code: string;
  field?: string;
  owner: ExceptionOwnerName;
  message: string;
  remediation: string;
}

export interface ChangeOutcome {
  inboxId: number;
  status: "APPLIED" | "SKIPPED" | "WAITING" | "FAILED";
  reason: string;
  entityType: SyncEntityType;
  entityId?: string;
  created?: boolean;
  changedFields?: string[];
  ignoredFields?: string[];
  transition?: { from: string; to: string };
  waitingFor?: string;
  failure?: SyncFailure;
}

interface Group {
  key: string;
  /** parentKey of the record: its source link, and the key its children wait for. */
  ref: string;
  spec: EntitySpec;
  system: SyncSystem;
  object: string;
  externalId: string;
  changes: SyncChangeInput[];
  /** Merged view of the non-stale changes. */
  fields: Record<string, unknown>;
  parents: Map<string, SyncParentRef>;
  state?: string;
  matchId?: string;
  matchOn?: { field: string; value: string };
  matchParent?: string;
  create: boolean;
  deleted: boolean;
  sourceModifiedAt: string | null;
  stale: SyncChangeInput[];
  entityId?: string;
  created: boolean;
  linked: boolean;
  current?: Record<string, string | null>;
  writes: Record<string, unknown>;
  ignored: string[];
  notes: string[];
  transition?: { from: string; to: string };
  outcome?: Omit<ChangeOutcome, "inboxId" | "entityType">;
}

const OWNER_OF: Record<SyncSystem, ExceptionOwnerName> = {
  SALESFORCE: "SALES_OPS",
  PSA: "PROJECT_OPS",
  ERP: "FINANCE",
};

const SYSTEM_NAME: Record<SyncSystem, string> = {
  SALESFORCE: "Salesforce",
  PSA: "the PSA",
  ERP: "the ERP",
};

function describeRecord(g: { system: SyncSystem; object: string; externalId: string }): string {
  return `${SYSTEM_NAME[g.system]} ${g.object} ${g.externalId}`;
}

/** Savepoint: runs `fn` in a nested transaction; a failure rolls back only what it did. */
async function attempt<T>(
  tx: Tx,
  fn: (sp: Tx) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await tx.transaction(fn) };
  } catch (error) {
    return { ok: false, error: toDomainError(error) };
  }
}

function errorText(error: unknown): string {
  if (error instanceof DomainError) return `${error.code}: ${error.message}`;
  const cause = (error as { cause?: { message?: string } })?.cause;
  return cause?.message ?? (error as Error)?.message ?? String(error);
}

/** Normalised text of a value as PostgreSQL prints the column type, for change detection. */
function normalise(type: ColumnType, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (type === "numeric") {
    const s = String(value).trim();
    const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s);
    if (!m) return s;
    const int = (m[2] ?? "").replace(/^0+(?=\d)/, "") || "0";
    const frac = (m[3] ?? "").replace(/0+$/, "");
    const sign = m[1] && (int !== "0" || frac) ? "-" : "";
    return frac ? `${sign}${int}.${frac}` : `${sign}${int}`;
  }
  if (type === "timestamptz") {
    const t = value instanceof Date ? value.getTime() : Date.parse(String(value));
    return Number.isNaN(t) ? String(value) : String(t);
  }
  if (type === "boolean") return String(value === true || value === "true" || value === "t");
  if (type === "date") return String(value).slice(0, 10);
  return String(value).trim();
}

function sameValue(type: ColumnType, a: unknown, b: unknown): boolean {
  return normalise(type, a) === normalise(type, b);
}

function merge(groups: Map<string, Group>, c: SyncChangeInput): Group {
  const key = `${c.entityType}|${c.system}|${c.object}|${c.externalId}`;
  let g = groups.get(key);
  if (!g) {
    const spec = ENTITY_SPECS[c.entityType];
    if (!spec) throw new Error(`unknown entity type ${c.entityType}`);
    g = {
      key,
      ref: parentKey(c.system, c.object, c.externalId),
      spec,
      system: c.system,
      object: c.object,
      externalId: c.externalId,
      changes: [],
      fields: {},
      parents: new Map(),
      create: true,
      deleted: false,
      sourceModifiedAt: null,
      stale: [],
      created: false,
      linked: false,
      writes: {},
      ignored: [],
      notes: [],
    };
    groups.set(key, g);
  }
  g.changes.push(c);
  return g;
}

/**
 * Applies a batch of changes; returns one outcome per change, in input order. Never throws for a
 * record's own problems (those are FAILED outcomes); throws only when the database fails.
 */
export async function applySyncChanges(
  tx: Tx,
  ctx: OperationContext,
  changes: SyncChangeInput[],
): Promise<ChangeOutcome[]> {
  const groups = new Map<string, Group>();
  // The group of each change, by input index (step 6 answers in input order).
  const groupOf = changes.map((c) => merge(groups, c));
  const all = [...groups.values()];

  // 1. Source links of every record and every parent, in one statement.
  const refs = new Map<string, { system: string; object: string; externalId: string }>();
  for (const g of all) {
    refs.set(g.ref, g);
    for (const c of g.changes)
      for (const p of c.parents ?? []) refs.set(parentKey(p.system, p.object, p.externalId), p);
  }
  const links = await loadLinks(tx, [...refs.values()]);
  await resolveNaturalKeys(tx, all, links);

  // 2. Merge each record's changes in source-time order, dropping stale ones.
  for (const g of all) {
    const link = links.get(g.ref);
    if (link && link.entityType === g.spec.entityType) {
      g.entityId = link.entityId;
      g.linked = true;
    }
    // Stamps parsed once per change (a sort compares each several times); most records have one.
    const stamped = g.changes.map((c) => ({
      c,
      at: c.sourceModifiedAt ? Date.parse(c.sourceModifiedAt) : null,
    }));
    if (stamped.length > 1)
      stamped.sort((a, b) => (a.at ?? 0) - (b.at ?? 0) || a.c.inboxId - b.c.inboxId);
    const appliedAt = link?.sourceModifiedAt ? Date.parse(link.sourceModifiedAt) : null;
    for (const { c, at } of stamped) {
      if (appliedAt !== null && at !== null && isOlder(at, appliedAt)) {
        g.stale.push(c);
        continue;
      }
      Object.assign(g.fields, c.fields);
      for (const p of c.parents ?? []) g.parents.set(p.field, p);
      if (c.state !== undefined) g.state = c.state;
      if (c.matchId) g.matchId = c.matchId;
      if (c.matchOn) g.matchOn = c.matchOn;
      if (c.matchParent) g.matchParent = c.matchParent;
      if (c.create === false) g.create = false;
      g.deleted = c.deleted === true;
      if (c.sourceModifiedAt) g.sourceModifiedAt = c.sourceModifiedAt;
    }
    if (g.stale.length === g.changes.length) {
      g.outcome = {
        status: "SKIPPED",
        reason: `stale: ${describeRecord(g)} was already applied as of ${link?.sourceModifiedAt}`,
        entityId: g.entityId,
      };
    }
  }
  const live = all.filter((g) => !g.outcome);

  // 3. Unlinked records: match an existing row (matchId / natural key) or create one.
  await matchUnlinked(tx, live, links);
  for (const g of live) {
    if (g.entityId) continue;
    if (g.deleted) {
      g.outcome = { status: "SKIPPED", reason: `deleted in source before the hub saw it` };
    } else if (!g.create || g.spec.insert === "never") {
      g.outcome = {
        status: "FAILED",
        reason: `${describeRecord(g)} matches no ${g.spec.entityType} in the hub`,
        failure: {
          code: "SYNC_UNLINKED_RECORD",
          owner: OWNER_OF[g.system],
          field: g.matchOn?.field ?? "externalId",
          message: `${describeRecord(g)} matches no ${g.spec.entityType} in the hub`,
          remediation:
            g.spec.entityType === "invoice"
              ? `Invoices originate in pshub. Set the External ID of ${describeRecord(g)} to the hub invoice id (or void it in the ERP), then retry.`
              : `Link ${describeRecord(g)} to its hub ${g.spec.entityType}: set its External ID to the hub id${g.matchOn ? ` or its ${g.matchOn.field} to the hub's` : ""}, then retry.`,
        },
      };
    } else {
      g.entityId = randomUUID();
      g.created = true;
    }
  }

  // 4. Parents, rank by rank: a new row in this batch is a valid parent for the ones after it.
  const byRank = [...new Set(live.map((g) => g.spec.rank))].sort((a, b) => a - b);
  const pending = (rank: number) => live.filter((g) => g.spec.rank === rank && !g.outcome);
  const newLinks = new Map<string, string>();
  for (const g of live) {
    if (g.entityId && !g.outcome && !g.linked) newLinks.set(g.ref, g.entityId);
  }
  const events: DomainEventInput[] = [];
  for (const rank of byRank) {
    resolveParents(pending(rank), links, newLinks);
    const rows = pending(rank);
    await loadCurrent(tx, rows);
    for (const g of rows) decideWrites(g);
    await writeRows(tx, ctx, rows);
    await applyStates(tx, ctx, rows);
    for (const g of rows) finish(g, events);
    // A new row that did not make it is no parent for later ranks.
    for (const g of rows)
      if (!g.linked && g.outcome?.status !== "APPLIED" && g.outcome?.status !== "SKIPPED")
        newLinks.delete(g.ref);
  }

  // 5. Source links (new and refreshed), then domain events.
  const linkRows = live
    .filter(
      (g) => g.entityId && (g.outcome?.status === "APPLIED" || g.outcome?.status === "SKIPPED"),
    )
    .filter((g) => !(g.deleted && g.spec.onDelete === "delete"))
    .map((g) => ({
      entity_type: g.spec.entityType,
      entity_id: g.entityId,
      system: g.system,
      object: g.object,
      external_id: g.externalId,
      source_modified_at: g.sourceModifiedAt,
    }));
  if (linkRows.length > 0) {
    // A typed array per column: unnest costs a third less backend CPU than jsonb_to_recordset
    // over the same rows (measured on 2,000-link batches).
    const col = <K extends keyof (typeof linkRows)[number]>(k: K) =>
      pgArray(linkRows.map((r) => r[k]));
    await tx.execute(sql`
      insert into source_link (entity_type, entity_id, system, object, external_id,
        source_modified_at)
      select r.entity_type, r.entity_id, r.system::external_system, r.object, r.external_id,
        r.source_modified_at
      from unnest(${col("entity_type")}::text[], ${col("entity_id")}::uuid[],
        ${col("system")}::text[], ${col("object")}::text[], ${col("external_id")}::text[],
        ${col("source_modified_at")}::timestamptz[])
        as r(entity_type, entity_id, system, object, external_id, source_modified_at)
      on conflict (system, object, external_id) do update set last_seen_at = now(),
        source_modified_at = greatest(source_link.source_modified_at, excluded.source_modified_at)`);
  }
  await emitDomainEvents(tx, events);

  // 6. One outcome per input change.
  const out: ChangeOutcome[] = [];
  changes.forEach((c, i) => {
    const g = groupOf[i]!;
    if (g.stale.includes(c) && g.outcome?.status !== "SKIPPED") {
      out.push({
        inboxId: c.inboxId,
        entityType: c.entityType,
        status: "SKIPPED",
        reason: `stale: a newer change of ${describeRecord(g)} was already applied`,
        entityId: g.entityId,
      });
      return;
    }
    // Field by field rather than a spread: outcomes come in many shapes, and copying those is
    // the slow path (the costliest line of this function at 20,000 records).
    const o = g.outcome!;
    out.push({
      inboxId: c.inboxId,
      entityType: c.entityType,
      status: o.status,
      reason: o.reason,
      entityId: o.entityId,
      created: o.created,
      changedFields: o.changedFields,
      ignoredFields: o.ignoredFields,
      transition: o.transition,
      waitingFor: o.waitingFor,
      failure: o.failure,
    });
  });
  await flagErpTotals(tx, ctx.actor, out);
  return out;
}

/** Whether a change stamped `at` is older than the version applied as of `appliedAt` (ms).
 *  Sources stamp at different resolutions: Salesforce's SystemModstamp and NetSuite's
 *  lastmodifieddate carry whole seconds, a CDC event's commitTimestamp milliseconds. A whole-second
 *  stamp means "some time in that second", so it is older only when its second ends before the
 *  applied one: the poller's copy of a version made at 10:00:00.900 (stamped 10:00:00) is not
 *  stale after a CDC event of 10:00:00.700 was applied (the poller is the safety net for a lost
 *  event). If that copy is in fact the older version, the next lookback sweep reads the current
 *  one, whose content differs, and applies it. */
function isOlder(at: number, appliedAt: number): boolean {
  return at % 1000 === 0 ? at + 1000 <= appliedAt : at < appliedAt;
}

/** Parents named by a natural key (and not linked): looked up once per entity type and field;
 *  found ones are added to `links` under their source reference. */
async function resolveNaturalKeys(
  tx: Tx,
  groups: Group[],
  links: Map<string, LinkRow>,
): Promise<void> {
  const wanted = new Map<string, { type: SyncEntityType; field: string; refs: SyncParentRef[] }>();
  for (const g of groups)
    for (const c of g.changes)
      for (const p of c.parents ?? []) {
        if (!p.naturalKey || links.has(parentKey(p.system, p.object, p.externalId))) continue;
        if (!ENTITY_SPECS[p.entityType]?.naturalKeys?.includes(p.naturalKey.field)) continue;
        const key = `${p.entityType}|${p.naturalKey.field}`;
        const w = wanted.get(key) ?? { type: p.entityType, field: p.naturalKey.field, refs: [] };
        w.refs.push(p);
        wanted.set(key, w);
      }
  for (const w of wanted.values()) {
    const values = [...new Set(w.refs.map((r) => r.naturalKey!.value))];
    const rows = await tx.execute<{ id: string; key: string }>(sql`
      select id::text as id, ${sql.raw(columnName(w.field))}::text as key
      from ${sql.raw(ENTITY_SPECS[w.type].table)}
      where ${sql.raw(columnName(w.field))}::text = any(${pgArray(values)}::text[])`);
    const byKey = new Map(rows.map((r) => [r.key, r.id]));
    for (const r of w.refs) {
      const id = byKey.get(r.naturalKey!.value);
      if (id)
        links.set(parentKey(r.system, r.object, r.externalId), {
          entityType: r.entityType,
          entityId: id,
          sourceModifiedAt: null,
        });
    }
  }
}

interface LinkRow {
  entityType: string;
  entityId: string;
  sourceModifiedAt: string | null;
}

async function loadLinks(
  tx: Tx,
  refs: { system: string; object: string; externalId: string }[],
): Promise<Map<string, LinkRow>> {
  const map = new Map<string, LinkRow>();
  if (refs.length === 0) return map;
  const rows = await tx.execute<{
    entity_type: string;
    entity_id: string;
    system: string;
    object: string;
    external_id: string;
    source_modified_at: string | null;
  }>(sql`
    select l.entity_type, l.entity_id, l.system, l.object, l.external_id,
      l.source_modified_at::text
    from source_link l
    join unnest(${pgArray(refs.map((r) => r.system))}::external_system[],
      ${pgArray(refs.map((r) => r.object))}::text[],
      ${pgArray(refs.map((r) => r.externalId))}::text[]) as r(system, object, external_id)
      on l.system = r.system and l.object = r.object and l.external_id = r.external_id`);
  for (const r of rows) {
    map.set(parentKey(r.system, r.object, r.external_id), {
      entityType: r.entity_type,
      entityId: r.entity_id,
      sourceModifiedAt: r.source_modified_at,
    });
  }
  return map;
}

/**
 * matchParent / matchId / matchOn for unlinked records, in that order of preference: one
 * statement per entity type.
 */
async function matchUnlinked(tx: Tx, groups: Group[], links: Map<string, LinkRow>): Promise<void> {
  // The hub id of the parent a record names in its matchParent field (linked already).
  const parentIdOf = (g: Group): string | undefined => {
    if (!g.matchParent) return undefined;
    const p = g.parents.get(g.matchParent);
    const link = p ? links.get(parentKey(p.system, p.object, p.externalId)) : undefined;
    return link && link.entityType === p!.entityType ? link.entityId : undefined;
  };
  const unlinked = groups.filter(
    (g) => !g.entityId && !g.outcome && (g.matchId || g.matchOn || parentIdOf(g)),
  );
  const byType = groupBy(unlinked, (g) => g.spec.entityType);
  for (const [type, gs] of byType) {
    const spec = ENTITY_SPECS[type];
    const ids = gs.map((g) => g.matchId).filter((v): v is string => !!v && isUuid(v));
    const keyed = gs.filter((g) => g.matchOn && spec.naturalKeys?.includes(g.matchOn.field));
    const conditions = [sql`t.id = any(${uuidArray(ids)})`];
    for (const field of new Set(keyed.map((g) => g.matchOn!.field))) {
      const values = keyed.filter((g) => g.matchOn!.field === field).map((g) => g.matchOn!.value);
      conditions.push(
        sql`${sql.raw(`t.${columnName(field)}`)}::text = any(${pgArray(values)}::text[])`,
      );
    }
    const parentFields = [
      ...new Set(
        gs.filter((g) => parentIdOf(g) && spec.columns[g.matchParent!]).map((g) => g.matchParent!),
      ),
    ];
    for (const field of parentFields) {
      const values = gs
        .filter((g) => g.matchParent === field)
        .map(parentIdOf)
        .filter(Boolean);
      conditions.push(
        sql`${sql.raw(`t.${columnName(field)}`)}::text = any(${pgArray(values)}::text[])`,
      );
    }
    const keyColumns = [...new Set([...(spec.naturalKeys ?? []), ...parentFields])].map(
      (k) => `t.${columnName(k)}::text as "${k}"`,
    );
    const rows = await tx.execute<Record<string, string>>(sql`
      select t.id::text as id ${sql.raw(keyColumns.length ? `, ${keyColumns.join(", ")}` : "")},
        (select array_agg(l.system::text || ':' || l.external_id) from source_link l
          where l.entity_type = ${type} and l.entity_id = t.id) as links
      from ${sql.raw(spec.table)} t where ${sql.join(conditions, sql` or `)}`);
    for (const g of gs) {
      const parentId = parentIdOf(g);
      const byParent = parentId ? rows.find((r) => r[g.matchParent!] === parentId) : undefined;
      const row =
        byParent ??
        rows.find((r) =>
          g.matchId && r.id === g.matchId
            ? true
            : g.matchOn
              ? r[g.matchOn.field] === g.matchOn.value
              : false,
        );
      if (!row) continue;
      const how = byParent
        ? g.matchParent!
        : g.matchId === row.id
          ? "id"
          : (g.matchOn?.field ?? "id");
      const existing = ((row as unknown as { links: string[] | null }).links ?? []).find((l) =>
        l.startsWith(`${g.system}:`),
      );
      if (existing) {
        g.outcome = {
          status: "FAILED",
          reason: `${describeRecord(g)} matches ${type} ${row.id}, already linked to ${existing}`,
          failure: {
            code: "SYNC_LINK_CONFLICT",
            owner: OWNER_OF[g.system],
            field: byParent ? g.matchParent! : (g.matchOn?.field ?? "externalId"),
            message: `${describeRecord(g)} matches ${type} ${row.id}, which is already linked to ${existing}`,
            remediation: `Two ${SYSTEM_NAME[g.system]} records claim hub ${type} ${row.id}: merge them in the source or correct the External ID of ${describeRecord(g)}.`,
          },
        };
        continue;
      }
      g.entityId = row.id;
      g.notes.push(`linked to existing ${type} by ${how}`);
    }
  }
}

function isUuid(v: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
}

/** Resolves parent references to canonical ids; a missing required parent makes the row wait. */
function resolveParents(
  rows: Group[],
  links: Map<string, LinkRow>,
  newLinks: Map<string, string>,
): void {
  // Fixpoint: a new row of this rank that waits is no parent for its siblings.
  for (let changed = true; changed; ) {
    changed = false;
    for (const g of rows) {
      if (g.outcome) continue;
      for (const p of g.parents.values()) {
        const key = parentKey(p.system, p.object, p.externalId);
        const link = links.get(key);
        const id = link && link.entityType === p.entityType ? link.entityId : newLinks.get(key);
        if (id) {
          g.fields[p.field] = id;
        } else if (p.required !== false) {
          g.outcome = {
            status: "WAITING",
            reason: `waiting for ${p.entityType} ${SYSTEM_NAME[p.system]} ${p.object} ${p.externalId} (${p.field})`,
            waitingFor: key,
            entityId: g.linked ? g.entityId : undefined,
          };
          if (!g.linked) newLinks.delete(g.ref);
          changed = true;
          break;
        } else {
          delete g.fields[p.field];
          g.notes.push(`${p.field} left as is: ${p.object} ${p.externalId} not in the hub yet`);
        }
      }
    }
  }
}

/** Current rows of the existing entities, columns as text, one statement per entity type. */
async function loadCurrent(tx: Tx, rows: Group[]): Promise<void> {
  const byType = groupBy(
    rows.filter((g) => !g.outcome && !g.created),
    (g) => g.spec.entityType,
  );
  for (const [type, gs] of byType) {
    const spec = ENTITY_SPECS[type];
    const cols = Object.keys(spec.columns).map((f) => `${columnName(f)}::text as "${f}"`);
    if (spec.machine) cols.push(`status::text as "status"`);
    if (type === "invoice")
      cols.push(`number::text as "number"`, `amount_paid::text as "amountPaid"`);
    const ids = gs.map((g) => g.entityId!);
    const found = await tx.execute<Record<string, string | null>>(sql`
      select id::text as id, ${sql.raw(cols.join(", "))} from ${sql.raw(spec.table)}
      where id = any(${uuidArray(ids)}) for update`);
    const byId = new Map(found.map((r) => [r.id, r]));
    for (const g of gs) {
      const current = byId.get(g.entityId!);
      if (current) g.current = current;
      else {
        // The link outlived its row (deleted in the hub): recreate it from the source.
        g.created = true;
      }
    }
  }
}

/** Ownership and change detection: what this change may write. */
function decideWrites(g: Group): void {
  if (g.outcome) return;
  const spec = g.spec;
  if (g.deleted) {
    if (spec.onDelete === "keep") {
      g.outcome = {
        status: "SKIPPED",
        reason: `deleted in ${SYSTEM_NAME[g.system]}: the hub keeps ${spec.entityType} history`,
        entityId: g.entityId,
      };
    } else if (spec.onDelete !== "delete") {
      g.writes = { ...spec.onDelete.set };
    }
    return;
  }
  for (const [field, value] of Object.entries(g.fields)) {
    const type = spec.columns[field];
    if (!type) {
      if (field !== "status" || !spec.machine) g.ignored.push(field);
      continue;
    }
    if (g.created) {
      g.writes[field] = value;
      continue;
    }
    const differs = !sameValue(type, g.current?.[field], value);
    if (!differs) continue;
    if (spec.owners[field] !== g.system) {
      g.ignored.push(field);
      continue;
    }
    g.writes[field] = value;
  }
  if (!g.created && spec.insert === "recordPayment" && Object.keys(g.writes).length > 0) {
    const fields = Object.keys(g.writes);
    g.outcome = {
      status: "FAILED",
      reason: `${describeRecord(g)} changed ${fields.join(", ")} after the payment was recorded`,
      entityId: g.entityId,
      failure: {
        code: "SYNC_PAYMENT_CHANGED",
        owner: "FINANCE",
        field: fields[0],
        message: `${describeRecord(g)} changed ${fields.join(", ")} after the hub recorded it`,
        remediation: `A recorded payment is not edited in place: reverse ${describeRecord(g)} in the ERP and enter a new payment, then resolve this exception.`,
      },
    };
    return;
  }
  if (g.created) {
    const missing = spec.requiredOnCreate.filter(
      (f) => g.writes[f] === undefined || g.writes[f] === null,
    );
    if (missing.length > 0 && spec.insert !== "recordPayment") {
      g.outcome = {
        status: "FAILED",
        reason: `new ${spec.entityType} from ${describeRecord(g)} lacks ${missing.join(", ")}`,
        failure: {
          code: "SYNC_MISSING_FIELD",
          owner: OWNER_OF[g.system],
          field: missing[0],
          message: `new ${spec.entityType} from ${describeRecord(g)} lacks ${missing.join(", ")}`,
          remediation: `Fill in ${missing.join(", ")} on ${describeRecord(g)} (or resync it: a partial change cannot create a row), then retry.`,
        },
      };
    }
  }
}

/** Inserts and updates, set-based per entity type and column set, isolated on failure. */
async function writeRows(tx: Tx, ctx: OperationContext, rows: Group[]): Promise<void> {
  const live = rows.filter((g) => !g.outcome);
  const payments = live.filter((g) => g.spec.insert === "recordPayment" && g.created);
  for (const g of payments) await recordInboundPayment(tx, ctx, g);
  const plain = live.filter((g) => !(g.spec.insert === "recordPayment" && g.created));
  const deletes = plain.filter((g) => g.deleted && g.spec.onDelete === "delete");
  const inserts = plain.filter((g) => g.created && !g.deleted);
  const updates = plain.filter(
    (g) =>
      !g.created &&
      !(g.deleted && g.spec.onDelete === "delete") &&
      Object.keys(g.writes).length > 0,
  );
  const batches = new Map<string, { kind: "insert" | "update" | "delete"; groups: Group[] }>();
  for (const [kind, gs] of [
    ["insert", inserts],
    ["update", updates],
    ["delete", deletes],
  ] as const) {
    for (const g of gs) {
      const key = `${kind}|${g.spec.table}|${Object.keys(g.writes).sort().join(",")}`;
      const b = batches.get(key) ?? { kind, groups: [] };
      b.groups.push(g);
      batches.set(key, b);
    }
  }
  for (const b of batches.values()) {
    const whole = await attempt(tx, (sp) => writeStatement(sp, b.kind, b.groups));
    if (whole.ok) continue;
    for (const g of b.groups) {
      const one = await attempt(tx, (sp) => writeStatement(sp, b.kind, [g]));
      if (!one.ok) failRow(g, one.error, "SYNC_ROW_REFUSED");
    }
  }
}

function failRow(g: Group, error: unknown, code: string): void {
  const text = errorText(error);
  const field = (error as DomainError)?.details?.field as string | undefined;
  g.outcome = {
    status: "FAILED",
    reason: `${describeRecord(g)} refused: ${text}`,
    entityId: g.created ? undefined : g.entityId,
    failure: {
      code: error instanceof DomainError ? `SYNC_${error.code}` : code,
      owner: OWNER_OF[g.system],
      field: field ?? "(record)",
      message: `${describeRecord(g)} could not be applied to ${g.spec.entityType}: ${text}`,
      remediation: `Correct ${describeRecord(g)} in ${SYSTEM_NAME[g.system]}${field ? ` (field ${field})` : ""} so that it satisfies: ${text}; then retry the exception.`,
    },
  };
  if (g.created) g.entityId = undefined;
}

async function writeStatement(
  tx: Tx,
  kind: "insert" | "update" | "delete",
  groups: Group[],
): Promise<void> {
  const spec = groups[0]!.spec;
  const fields = Object.keys(groups[0]!.writes).sort();
  const table = sql.raw(spec.table);
  if (kind === "delete") {
    const ids = groups.map((g) => g.entityId!);
    await tx.execute(sql`delete from ${table} where id = any(${uuidArray(ids)})`);
    await tx.execute(sql`delete from source_link where entity_type = ${spec.entityType}
      and entity_id = any(${uuidArray(ids)})`);
    return;
  }
  // A typed array per column (unnest), as the ingest bench's floor writes: a jsonb document of
  // the batch with a lookup and a cast per field and row cost Postgres more.
  const names = ["id", ...fields.map(columnName)];
  const arrays = sql.join(
    [
      uuidArray(groups.map((g) => g.entityId!)),
      ...fields.map(
        (f) =>
          sql`${pgArray(groups.map((g) => g.writes[f]))}::${sql.raw(sqlType(spec.columns[f]!))}[]`,
      ),
    ],
    sql`, `,
  );
  if (kind === "insert") {
    await tx.execute(sql`insert into ${table} (${sql.raw(names.join(", "))})
      select * from unnest(${arrays})`);
    return;
  }
  const sets = sql.raw(fields.map((f) => `${columnName(f)} = r.${columnName(f)}`).join(", "));
  await tx.execute(sql`update ${table} t set ${sets}, version = t.version + 1, updated_at = now()
    from unnest(${arrays}) as r(${sql.raw(names.join(", "))}) where t.id = r.id`);
}

/** ERP payments are recorded through recordPayment (PARTIALLY_PAID / PAID follow from them). */
async function recordInboundPayment(tx: Tx, ctx: OperationContext, g: Group): Promise<void> {
  const f = g.fields;
  const result = await attempt(tx, (sp) =>
    recordPayment.run(sp, ctx, {
      invoiceId: String(f.invoiceId),
      amount: String(f.amount),
      currency: f.currency ? String(f.currency) : undefined,
      receivedOn: f.receivedOn ? String(f.receivedOn) : undefined,
      reference: f.reference ? String(f.reference) : undefined,
      erpId: f.erpId ? String(f.erpId) : g.externalId,
    }),
  );
  if (!result.ok) {
    failRow(g, result.error, "SYNC_PAYMENT_REFUSED");
    return;
  }
  g.entityId = result.value.payment.id;
  g.writes = {};
  g.notes.push(
    `payment recorded: invoice ${result.value.invoice.number} is ${result.value.invoice.status}`,
  );
}

/** Moves reported states through the lifecycle machines, step by step, set-based per step. */
async function applyStates(tx: Tx, ctx: OperationContext, rows: Group[]): Promise<void> {
  const live = rows.filter(
    (g) => !g.outcome && g.state !== undefined && g.spec.machine && !g.deleted,
  );
  const moving: { g: Group; path: string[]; from: string }[] = [];
  for (const g of live) {
    const spec = g.spec;
    const state = g.state!;
    if (
      !spec.stateOwner ||
      spec.stateOwner.system !== g.system ||
      !spec.stateOwner.states.includes(state)
    ) {
      g.ignored.push(`status=${state}`);
      continue;
    }
    const from = g.current?.status ?? initialState(spec);
    if (from === state) continue;
    const path = statePath(spec.machine!, from, state);
    if (path === null) {
      if (statePath(spec.machine!, state, from) !== null) {
        g.notes.push(`status ${state} ignored: the hub is already at ${from}`);
        continue;
      }
      failRow(
        g,
        // The lifecycle's own refusal (graph type name, from/to), as a mutation would give it.
        new InvalidTransitionError(spec.entityType, g.entityId!, from, state, {
          details: { field: "status" },
        }),
        "SYNC_INVALID_TRANSITION",
      );
      continue;
    }
    moving.push({ g, path, from });
  }
  for (let step = 0; moving.some((m) => m.path.length > step); step++) {
    const due = moving.filter((m) => m.path.length > step && !m.g.outcome);
    const byTarget = groupBy(due, (m) => `${m.g.spec.entityType}|${m.path[step]}`);
    for (const [key, ms] of byTarget) {
      const to = key.split("|")[1]!;
      const whole = await attempt(tx, (sp) =>
        transition(
          sp,
          ctx,
          ms.map((m) => m.g),
          to,
        ),
      );
      if (!whole.ok) {
        for (const m of ms) {
          const one = await attempt(tx, (sp) => transition(sp, ctx, [m.g], to));
          if (!one.ok) failRow(m.g, one.error, "SYNC_INVALID_TRANSITION");
        }
      }
    }
    for (const m of due)
      if (!m.g.outcome && m.path.length === step + 1)
        m.g.transition = { from: m.from, to: m.path[step]! };
  }
}

function initialState(spec: EntitySpec): string {
  const defaults: Record<string, string> = {
    contract: "DRAFT",
    project: "PLANNED",
    milestone: "OPEN",
    time_entry: "SUBMITTED",
    expense: "SUBMITTED",
    invoice: "DRAFT",
  };
  return defaults[spec.entityType] ?? spec.machine!.states[0]!;
}

/** One step of the machine for several rows: the operation a mutation uses, where one exists. */
async function transition(tx: Tx, ctx: OperationContext, gs: Group[], to: string): Promise<void> {
  const type = gs[0]!.spec.entityType;
  const ids = gs.map((g) => g.entityId!);
  const psa = "changed in the PSA";
  switch (`${type}:${to}`) {
    case "time_entry:APPROVED":
      await approveTimeEntries.run(tx, ctx, { ids });
      return;
    case "time_entry:REJECTED":
      await rejectTimeEntries.run(tx, ctx, { ids, reason: `rejected in the PSA` });
      return;
    case "expense:APPROVED":
      await approveExpenses.run(tx, ctx, { ids });
      return;
    case "expense:REJECTED":
      await rejectExpenses.run(tx, ctx, { ids, reason: `rejected in the PSA` });
      return;
    case "milestone:COMPLETED":
      for (const g of gs)
        await completeMilestone.run(tx, ctx, {
          milestoneId: g.entityId!,
          completedOn: (g.fields.completedOn as string | undefined) ?? undefined,
        });
      return;
    case "milestone:APPROVED":
      for (const g of gs) await approveMilestone.run(tx, ctx, { milestoneId: g.entityId! });
      return;
    case "project:ACTIVE":
      for (const g of gs) await activateProject.run(tx, ctx, { projectId: g.entityId! });
      return;
    case "invoice:ISSUED":
      throw new DomainError(
        "INVALID_TRANSITION",
        "invoices are issued in the hub (issueInvoice), not by the ERP",
        {
          field: "status",
          to: "ISSUED",
        },
      );
    case "invoice:POSTED":
      for (const g of gs) {
        const erpNumber = (g.fields.erpNumber as string | undefined) ?? g.current?.erpNumber;
        if (!erpNumber)
          throw new DomainError(
            "VALIDATION_FAILED",
            "a posted invoice needs its ERP document number",
            {
              field: "erpNumber",
            },
          );
        await markInvoicePosted.run(tx, ctx, { invoiceId: g.entityId!, erpNumber });
      }
      return;
    case "invoice:VOID":
      for (const g of gs)
        await voidInvoice.run(tx, ctx, { invoiceId: g.entityId!, reason: "voided in the ERP" });
      return;
    default:
      await genericTransition(tx, ctx, gs, to, psa);
  }
}

const TABLES = {
  contract: schema.contract,
  project: schema.project,
  milestone: schema.milestone,
  time_entry: schema.timeEntry,
  expense: schema.expense,
  invoice: schema.invoice,
} as const;

/** A transition with no dedicated operation: checked by the machine, status_changed emitted. */
async function genericTransition(
  tx: Tx,
  ctx: OperationContext,
  gs: Group[],
  to: string,
  _why: string,
): Promise<void> {
  const spec = gs[0]!.spec;
  const table = TABLES[spec.entityType as keyof typeof TABLES];
  if (!table || !spec.machine) throw new Error(`${spec.entityType} has no state machine`);
  const ids = gs.map((g) => g.entityId!);
  const locked = await tx.execute<{ id: string; status: string }>(sql`
    select id::text, status::text from ${sql.raw(spec.table)} where id = any(${uuidArray(ids)})
    order by id for update`);
  // biome-ignore lint/suspicious/noExplicitAny: one helper over several tables (see rows.ts)
  await transitionRows(tx, table as any, spec.machine, locked as any, to);
  await emitDomainEvents(
    tx,
    locked.map((r) => ({
      type: `${spec.entityType}.status_changed` as DomainEventInput["type"],
      entityType: spec.entityType,
      entityId: r.id,
      payload: { from: r.status, to },
      causationId: ctx.requestId ?? null,
      actor: ctx.actor,
    })),
  );
}

/** The outcome of a row that got through, and its `<entity>.synced` domain event. */
function finish(g: Group, events: DomainEventInput[]): void {
  if (g.outcome) return;
  const changed = Object.keys(g.writes);
  const ignored = g.ignored;
  const parts: string[] = [];
  if (g.deleted)
    parts.push(g.spec.onDelete === "delete" ? "deleted" : "deactivated (deleted in source)");
  else if (g.created) parts.push(`created ${g.spec.entityType}`);
  else if (changed.length) parts.push(`updated ${changed.join(", ")}`);
  if (g.transition) parts.push(`status ${g.transition.from} → ${g.transition.to}`);
  parts.push(...g.notes);
  if (ignored.length) parts.push(`ignored (not owned by ${g.system}): ${ignored.join(", ")}`);
  const didSomething =
    g.created ||
    changed.length > 0 ||
    g.transition ||
    g.deleted ||
    g.notes.some((n) => n.startsWith("payment recorded"));
  g.outcome = {
    status: didSomething ? "APPLIED" : "SKIPPED",
    reason: didSomething
      ? parts.join("; ")
      : `unchanged${parts.length ? `; ${parts.join("; ")}` : ""}`,
    entityId: g.entityId,
    created: g.created,
    changedFields: changed,
    ignoredFields: ignored,
    transition: g.transition,
  };
  if ((g.created || changed.length > 0) && g.spec.insert !== "recordPayment") {
    events.push({
      type: `${g.spec.entityType}.synced` as DomainEventInput["type"],
      entityType: g.spec.entityType,
      entityId: g.entityId!,
      payload: {
        created: g.created,
        fields: changed,
        system: g.system,
        object: g.object,
        externalId: g.externalId,
      },
      actor: "sync",
    });
  }
}

/**
 * The ERP's figures win; a difference from the hub's draft is a FINANCE exception (DESIGN
 * "Money and numbering"). Called by the applier for invoices whose totals the ERP changed.
 */
export async function flagErpTotals(
  tx: Tx,
  actor: string,
  outcomes: ChangeOutcome[],
): Promise<void> {
  for (const o of outcomes) {
    if (o.entityType !== "invoice" || o.status !== "APPLIED" || !o.entityId) continue;
    const changed = (o.changedFields ?? []).filter(
      (f) => f === "tax" || f === "total" || f === "subtotal",
    );
    if (changed.length === 0) continue;
    await raiseSyncException(tx, {
      owner: "FINANCE",
      severity: "HIGH",
      code: "ERP_TOTALS_DIFFER",
      entityType: "invoice",
      entityId: o.entityId,
      sourceSystem: "ERP",
      inboxEventId: o.inboxId,
      message: `the ERP posted invoice ${o.entityId} with a different ${changed.join(", ")} than the hub's draft; the ERP's figures were applied`,
      remediation: `Compare the hub's draft lines of invoice ${o.entityId} with the posted invoice in the ERP (${changed.join(", ")}); correct the tax setup or the billing rule that caused the difference, then resolve this exception.`,
      actor,
    });
  }
}
