/**
 * The sync engine's public shapes: what connectors (cdc/salesforce, cdc/certinia, cdc/netsuite,
 * cdc/webhooks) hand to the engine and what the engine calls on them. Keep this file stable:
 * every connector builds on it (see cdc/README.md, "Engine API").
 *
 * Glossary
 * - source system: the external system as db/src/schema.ts's `externalSystem` enum names it
 *   (SALESFORCE = the CRM, PSA = Certinia / a pushing PSA, ERP = NetSuite / a pushing ERP).
 * - connector: one named adapter to a source system ("salesforce", "certinia", "netsuite",
 *   "webhooks"); its name is the inbox `source` and the `sync_cursor.connector`.
 * - object: the source's own object name ("Account", "pse__Proj__c", "customer", "invoice", …).
 * - inbound record: one change read from a source, as received (raw fields).
 * - ingest: durably recording a batch of inbound records in `inbox_event` (+ the cursor that
 *   covers them) in ONE transaction. Nothing is applied at ingest time.
 * - mapper: source object → canonical change(s), zod-validated. One per (system, object).
 * - canonical change: what one record means for one canonical row (fields in the hub's camelCase
 *   column names, parents as source references, an optional state the source reports).
 * - apply: inbox rows → mappers → ONE transaction per batch: set-based upserts, source links,
 *   domain events, state transitions, inbox status (APPLIED / SKIPPED / FAILED / WAITING + reason).
 * - parent: a canonical row a change refers to by its source id (an invoice's customer, a time
 *   entry's project); a change whose parent has not arrived WAITS and is retried when it does.
 * - field ownership: which system may change which canonical field (DESIGN "which system owns
 *   which state", db/src/sync/ownership.ts); other fields a source sends are ignored and counted.
 * - leader lock: one active poller per (connector, object) across processes (pg advisory lock).
 */
import type { Tx } from "@pshub/db";

/** The external systems as db/src/schema.ts's externalSystem enum names them. */
export type SourceSystem = "SALESFORCE" | "PSA" | "ERP";

/** Canonical entity types the engine can write (db/src/sync/entities.ts has their columns). */
export type EntityType =
  | "customer"
  | "contact"
  | "opportunity"
  | "contract"
  | "project"
  | "milestone"
  | "resource"
  | "assignment"
  | "time_entry"
  | "expense"
  | "invoice"
  | "payment";

/** One change read from a source (poller page row, CDC event, webhook, SuiteQL row). */
export interface InboundRecord {
  system: SourceSystem;
  /** The source's object name: "Account", "pse__Proj__c", "customer", "invoice", … */
  object: string;
  /** The source's record id (Salesforce 18-char Id, NetSuite internal id). */
  externalId: string;
  op: "UPSERT" | "DELETE";
  /** Raw source fields as received. */
  fields: Record<string, unknown>;
  /** true for CDC UPDATE events: only changed fields are present (merge, never null-out). */
  partial?: boolean;
  /** ISO timestamp, e.g. SystemModstamp / lastmodifieddate / CDC commitTimestamp. An older
   *  change than the one already applied for the same record is SKIPPED as stale. */
  sourceModifiedAt?: string;
  /** LastModifiedById / changeOrigin / commitUser: loop prevention (the connector decides). */
  modifiedBy?: string;
  /** Unique per connector: e.g. `${object}:${externalId}:${sourceModifiedAt}`, a CDC replayId,
   *  a webhook-id. A second record with the same key is a duplicate and is not recorded again. */
  dedupeKey: string;
}

/** Where a connector resumes for one object; written in the same transaction as the records. */
export interface CursorUpdate {
  connector: string;
  object: string;
  cursor: Record<string, unknown>;
  /** now − newest source timestamp covered, for syncStatus. */
  lagMs?: number;
}

/** What Ingest reports. `duplicates` were already in the inbox (same connector + dedupeKey). */
export interface IngestResult {
  received: number;
  duplicates: number;
}

/**
 * Durably records a batch: inbox rows (raw payload kept; duplicates by (source, dedupeKey)
 * ignored) AND the cursor, in ONE transaction — a cursor advances only with the data it covers.
 * Resolves once committed; the applier is woken (NOTIFY) and applies asynchronously.
 */
export type Ingest = (records: InboundRecord[], cursor?: CursorUpdate) => Promise<IngestResult>;

/** A reference to another record by its source id, resolved through source_link. */
export interface ParentRef {
  /** The canonical foreign-key field this resolves, e.g. "customerId", "projectId". */
  field: string;
  system: SourceSystem;
  /** The parent's source object, e.g. "Account", "customer", "pse__Proj__c". */
  object: string;
  externalId: string;
  /** Which canonical entity the parent is (for the waiting reason and the link lookup). */
  entityType: EntityType;
  /** false: when the parent is unknown the field is left null instead of waiting. */
  required?: boolean;
  /** Resolve by the parent's natural key in the hub instead (e.g. { field: "code" } of a project,
   *  "email" of a resource) when no source link exists: for pushing systems that name hub rows. */
  naturalKey?: { field: string; value: string };
}

/**
 * What one inbound record means for one canonical row. `fields` use the hub's camelCase column
 * names (db/src/schema.ts) with database-ready values: money and quantities as decimal strings,
 * dates as "YYYY-MM-DD", timestamps as ISO strings, never floats.
 */
export interface CanonicalChange {
  entityType: EntityType;
  /** The source record this change comes from (the source_link written for it). */
  system: SourceSystem;
  object: string;
  externalId: string;
  /** Canonical field values. Absent = not sent (never nulled); null = explicitly cleared. */
  fields: Record<string, unknown>;
  /** Foreign keys given as source references. */
  parents?: ParentRef[];
  /** The lifecycle state the source reports (e.g. "APPROVED"); applied as a state-machine
   *  transition (db/src/lifecycle), never written directly. */
  state?: string;
  /** Who performed the state change in the source (approvedBy), when known. */
  stateActor?: string;
  /** A canonical id the source record carries (e.g. NetSuite externalId = the hub's invoice id):
   *  used to link an existing row when no source_link exists yet. */
  matchId?: string;
  /** A natural key to link an existing unlinked row by, e.g. { field: "email", value } for a
   *  resource, "code" for a project, "number" for a contract or invoice, "erpId" for a payment. */
  matchOn?: { field: string; value: string };
  /** A parent field whose hub id identifies an unlinked row (tried before matchOn). */
  matchParent?: string;
  /** May the engine create the canonical row when nothing links to it? Default true. When false,
   *  an unknown record becomes a sync_exception (e.g. an invoice the hub never issued). */
  create?: boolean;
  /** The source deleted the record (the entity's delete rule in db/ decides what that means). */
  deleted?: boolean;
}

/** A record that cannot be mapped: becomes a sync_exception (raw payload stays for replay). */
export interface MappingFailure {
  /** The source field at fault, e.g. "Billing_Model__c". */
  field: string;
  message: string;
  /** Who must fix it. Default INTEGRATION. */
  owner?: "FINANCE" | "PROJECT_OPS" | "SALES_OPS" | "INTEGRATION";
  /** What to do, naming the record and the field. */
  remediation: string;
  /** Machine-readable code, e.g. "MAPPING_INVALID_FIELD". */
  code?: string;
}

export type MapResult =
  | { kind: "changes"; changes: CanonicalChange[] }
  /** Deliberately not applied (e.g. a record type pshub does not track); the reason is kept. */
  | { kind: "skip"; reason: string }
  | { kind: "failure"; failure: MappingFailure };

/** Maps one source object to canonical changes. Field maps live one place per object and are
 *  overridable by config (the connector builds its mappers from its field map). */
export interface Mapper {
  system: SourceSystem;
  object: string;
  /** The canonical entity this object mainly becomes (documentation, syncStatus, resync). */
  entityType: EntityType;
  /** Validates (zod) and translates one record. Must not throw for bad data: return a failure. */
  parse(record: InboundRecord): MapResult;
  /** Source fields the mapper reads; a connector checks them against `describe` at start. */
  requiredFields: string[];
}

/** What one pollOnce call did, for syncStatus and the poll loop's pacing. */
export interface PollResult {
  /** Records handed to Ingest. */
  records: number;
  /** true when more pages are waiting (the engine polls again immediately). */
  more: boolean;
  /** The source asked us to back off (rate limit, daily budget): do not poll before this. */
  pausedUntil?: Date;
  /** API budget as last reported by the source (e.g. Sforce-Limit-Info), for syncStatus. */
  apiBudget?: { used: number; limit: number };
}

/** What the engine hands a connector's pollOnce. */
export interface PollContext {
  /** The cursor last stored for (connector, object), {} on the first run. */
  cursor: Record<string, unknown>;
  /** Durable recording of records + the next cursor (one transaction). */
  ingest: Ingest;
  /** Aborted when the engine stops or loses the leader lock: stop between pages. */
  signal: AbortSignal;
}

/** A connector: the engine drives pollers (one active per (connector, object) via an advisory
 *  lock) and resyncEntity. */
export interface Connector {
  /** Inbox source and sync_cursor.connector, e.g. "netsuite". */
  name: string;
  system: SourceSystem;
  /** Objects the engine polls, each under its own leader lock. */
  objects: string[];
  /** Reads one page (or one batch) after ctx.cursor and ingests it with the next cursor. */
  pollOnce(object: string, ctx: PollContext): Promise<PollResult>;
  /** Reads one record now (resyncEntity); undefined when the source no longer has it. */
  fetchOne(object: string, externalId: string): Promise<InboundRecord | undefined>;
  /** Mappers for every object this connector ingests. */
  mappers: Mapper[];
  /** Poll interval per object in ms (default: the engine's). */
  pollIntervalMs?: number;
  /** Started once by the engine (streams, auth); may ingest on its own through `ingest`. */
  start?(ctx: { ingest: Ingest; signal: AbortSignal }): Promise<void>;
  stop(): Promise<void>;
}

/** One canonical row the applier wrote, handed to after-apply hooks. */
export interface AppliedChange {
  entityType: EntityType;
  entityId: string;
  created: boolean;
  /** Canonical fields that changed (after ownership filtering). */
  changedFields: string[];
  /** The state transition applied, if any. */
  transition?: { from: string; to: string };
  change: CanonicalChange;
  inboxEventId: number;
}

/**
 * After-apply hook: runs in the batch's transaction after the canonical rows are written, e.g.
 * an Opportunity applied as Closed Won runs convertOpportunity. Each call runs in its own
 * savepoint: a hook that throws rolls back only its own changes; the record stays APPLIED, the
 * failure is added to its inbox reason and raised as a sync_exception (a RemediableError's own
 * exception — owner, remediation — or an INTEGRATION one). The next change of the record runs
 * the hook again (the fix in the source re-triggers it).
 */
export type AfterApply = (tx: Tx, applied: AppliedChange) => Promise<void>;

/** An after-apply hook with the entity types it wants (all when omitted). */
export interface AfterApplyHook {
  name: string;
  entityTypes?: EntityType[];
  /**
   * Optional set-based pre-filter: given every change of the batch the hook wants, returns the
   * ones `run` must see (one statement for the batch instead of a savepoint per record). Without
   * it, `run` is called for every change.
   */
  select?: (tx: Tx, applied: AppliedChange[]) => Promise<AppliedChange[]>;
  run: AfterApply;
}
