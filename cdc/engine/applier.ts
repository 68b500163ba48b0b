/**
 * The applier: inbox → mappers → ONE transaction per batch. Claims RECEIVED rows (FOR UPDATE SKIP
 * LOCKED, so appliers in several processes never take the same row), maps each with its
 * (system, object) mapper, applies the canonical changes set-based through db's
 * `sync.applySyncChanges` (source links, domain events, state transitions, field ownership),
 * runs the after-apply hooks, raises sync exceptions for what cannot be applied (raw payload
 * stays in the inbox for replay), wakes records waiting for a parent applied in this batch, and
 * writes every inbox outcome with its reason. `ingest` applies a connector's batch in the
 * transaction that records it (rows written once, in their final state); a batch that cannot be
 * applied there is recorded RECEIVED and left to the claim loop.
 */
import { type DbClient, type Logger, resolveInboxExceptions, sync } from "@pshub/db";
import type {
  AfterApplyHook,
  AppliedChange,
  CursorUpdate,
  InboundRecord,
  IngestResult,
  Mapper,
  MapResult,
} from "./types.ts";

export interface ApplierOptions {
  /** Mappers by (system, object), for any source. */
  mappers: Mapper[];
  /** Mappers of one source (inbox `source` = connector name); they win over `mappers`, so two
   *  sources of one system (NetSuite polling and ERP webhooks) can both have an "invoice". */
  sourceMappers?: Record<string, Mapper[]>;
  hooks?: AfterApplyHook[];
  /** Inbox rows per transaction (default 500). */
  batchSize?: number;
  logger?: Logger;
}

export interface ApplyStats {
  batches: number;
  applied: number;
  skipped: number;
  failed: number;
  waiting: number;
}

type Tx = Parameters<Parameters<DbClient["db"]["transaction"]>[0]>[0];

type BatchStats = ApplyStats & { claimed: number; woken: number; resolved: number };

/** What applying some inbox rows decided, before the outcomes are written. */
interface RowsApplied {
  outcomes: sync.InboxOutcome[];
  /** Parent keys (`SYSTEM:object:externalId`) the rows applied: their waiting children wake. */
  appliedKeys: string[];
}

export function mapperKey(system: string, object: string): string {
  return `${system}|${object}`;
}

export class Applier {
  private readonly mappers = new Map<string, Mapper>();
  private readonly hooks: AfterApplyHook[];
  private readonly batchSize: number;

  constructor(
    private readonly client: DbClient,
    options: ApplierOptions,
  ) {
    for (const m of options.mappers) this.mappers.set(mapperKey(m.system, m.object), m);
    for (const [source, list] of Object.entries(options.sourceMappers ?? {}))
      for (const m of list) this.mappers.set(`${source}|${mapperKey(m.system, m.object)}`, m);
    this.hooks = options.hooks ?? [];
    this.batchSize = options.batchSize ?? 500;
    this.logger = options.logger;
  }

  private readonly logger?: Logger;

  addMappers(mappers: Mapper[]): void {
    for (const m of mappers) this.mappers.set(mapperKey(m.system, m.object), m);
  }

  /** Applies batches until no due RECEIVED row is left; returns what it did. */
  async drain(maxBatches = Number.POSITIVE_INFINITY): Promise<ApplyStats> {
    const total: ApplyStats = { batches: 0, applied: 0, skipped: 0, failed: 0, waiting: 0 };
    while (total.batches < maxBatches) {
      const stats = await this.applyBatch();
      if (stats.claimed === 0) break;
      total.batches++;
      total.applied += stats.applied;
      total.skipped += stats.skipped;
      total.failed += stats.failed;
      total.waiting += stats.waiting;
      if (stats.claimed < this.batchSize && stats.woken === 0) break;
    }
    return total;
  }

  /** One transaction (claim, map, apply, hooks, exceptions, outcomes), then the wake-up of the
   *  records waiting for what it applied, after the commit. */
  async applyBatch(): Promise<BatchStats> {
    return this.exclusive(async () => {
      const wake: RowsApplied = { outcomes: [], appliedKeys: [] };
      const stats = await this.client.db.transaction(async (tx) => {
        const rows = await sync.claimInbox(tx, this.batchSize);
        const stats = { claimed: rows.length, batches: 1, woken: 0, resolved: 0, ...count([]) };
        if (rows.length === 0) return stats;
        const { outcomes, appliedKeys } = await this.applyRows(tx, rows);
        await sync.recordInboxOutcomes(tx, outcomes);
        // Woken after the commit (below): a record of this batch that now waits for a parent
        // applied later in the same batch, or by another process, is woken too.
        Object.assign(wake, { outcomes, appliedKeys });
        // A replayed (or re-tried) event that now applies closes the exceptions its earlier
        // failure raised; first attempts have none, so only rows seen before are looked up.
        const seenBefore = new Map(rows.filter((r) => r.attempts > 0).map((r) => [r.id, r.source]));
        const bySourceDone = new Map<string, { inboxEventId: number; status: string }[]>();
        for (const o of outcomes) {
          const source = seenBefore.get(o.id);
          if (!source || (o.status !== "APPLIED" && o.status !== "SKIPPED")) continue;
          const done = bySourceDone.get(source) ?? [];
          done.push({ inboxEventId: o.id, status: o.status });
          bySourceDone.set(source, done);
        }
        for (const [source, done] of bySourceDone)
          stats.resolved += await resolveInboxExceptions(tx, done, `cdc:${source}`);
        Object.assign(stats, count(outcomes));
        this.logger?.debug({ ...stats }, "applied inbox batch");
        return stats;
      });
      stats.woken = await this.wake(wake);
      return stats;
    });
  }

  /** After the commit: the records waiting for a parent these rows applied, and these rows left
   *  waiting whose parent another process has committed meanwhile (sync.wakeWaiting). */
  private wake(applied: RowsApplied): Promise<number> {
    const waitingIds = applied.outcomes.filter((o) => o.status === "WAITING").map((o) => o.id);
    return sync.wakeWaiting(this.client.db, applied.appliedKeys, waitingIds);
  }

  /**
   * Records a batch of one source (inbox rows + cursor, ONE transaction, as an Ingest does) and
   * applies it in that same transaction: the rows are written once, in their final state, with
   * no claim and no second pass over their payload. Duplicates (source + dedupe key) are neither
   * recorded nor applied. When applying throws, its savepoint is rolled back and the rows are
   * recorded RECEIVED for the claim loop (which retries them), so a record is never lost to an
   * apply error and the cursor still advances only with the rows it covers.
   */
  async ingest(
    source: string,
    records: InboundRecord[],
    cursor?: CursorUpdate,
  ): Promise<IngestResult & ApplyStats & { woken: number }> {
    return this.exclusive(async () => {
      const result = await this.client.db.transaction(async (tx) => {
        const ids = await sync.reserveInboxIds(
          tx,
          source,
          records.map((r) => r.dedupeKey),
        );
        const rows: sync.InboxRow[] = [];
        records.forEach((r, i) => {
          const id = ids[i];
          if (id == null) return;
          rows.push({
            id,
            source,
            dedupeKey: r.dedupeKey,
            object: r.object,
            externalId: r.externalId,
            system: r.system,
            payload: r,
            attempts: 0,
            waitingFor: null,
            sourceModifiedAt: r.sourceModifiedAt ?? null,
          });
        });
        let applied: RowsApplied | undefined;
        if (rows.length > 0) {
          try {
            applied = await tx.transaction((sp) => this.applyRows(sp, rows));
          } catch (error) {
            this.logger?.warn(
              { err: error, source, rows: rows.length },
              "applying an ingested batch failed; recorded for the applier to retry",
            );
          }
        }
        const outcomeOf = new Map(applied?.outcomes.map((o) => [o.id, o]));
        const written = await sync.writeInbox(
          tx,
          source,
          rows.map((r) => {
            const record = r.payload as InboundRecord;
            return {
              id: r.id,
              dedupeKey: r.dedupeKey,
              system: r.system,
              object: r.object,
              externalId: r.externalId,
              payload: record,
              sourceModifiedAt: r.sourceModifiedAt,
              outcome: outcomeOf.get(r.id),
            };
          }),
          cursor,
        );
        // A concurrent writer recorded some of these keys after they were reserved: their
        // changes are already in this transaction, so none of it may commit. The caller retries
        // (the next attempt finds them recorded and skips them as duplicates).
        if (written.received !== rows.length)
          throw new Error(
            `${rows.length - written.received} of ${source}'s inbox rows were recorded concurrently; retry the batch`,
          );
        return {
          applied,
          stats: {
            received: rows.length,
            duplicates: records.length - rows.length,
            batches: applied ? 1 : 0,
            ...count(applied?.outcomes ?? []),
          },
        };
      });
      // After the commit, as applyBatch: children waiting in the inbox for a parent this batch
      // applied become due (the caller wakes its claim loop when `woken` > 0).
      const woken = result.applied ? await this.wake(result.applied) : 0;
      return { ...result.stats, woken };
    });
  }

  /** One apply at a time in this process: the claim loop and the ingests of every poll loop take
   *  turns, as one applier did, so two transactions never race to create the same row. */
  private turn: Promise<unknown> = Promise.resolve();
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work, work);
    this.turn = next.catch(() => {});
    return next;
  }

  /** Maps and applies inbox rows in `tx` (hooks and exceptions included); writes no outcome. */
  private async applyRows(tx: Tx, rows: sync.InboxRow[]): Promise<RowsApplied> {
    const outcomes = new Map<number, sync.InboxOutcome>();
    const failures: {
      row: sync.InboxRow;
      record?: InboundRecord;
      failure: sync.SyncFailure;
      entityType?: string;
      entityId?: string;
    }[] = [];
    // Per source, so each operation runs as that connector (actor `cdc:<source>`).
    const bySource = new Map<string, sync.InboxRow[]>();
    for (const r of rows) {
      const list = bySource.get(r.source);
      if (list) list.push(r);
      else bySource.set(r.source, [r]);
    }
    const appliedKeys: string[] = [];
    for (const [source, sourceRows] of bySource) {
      const ctx = { actor: `cdc:${source}`, requestId: null };
      const changes: sync.SyncChangeInput[] = [];
      const records = new Map<number, InboundRecord>();
      for (const row of sourceRows) {
        const record = row.payload as InboundRecord;
        records.set(row.id, record);
        const mapped = this.map(source, record);
        if (mapped.kind === "skip") {
          outcomes.set(row.id, { id: row.id, status: "SKIPPED", reason: mapped.reason });
        } else if (mapped.kind === "failure") {
          const f = mapped.failure;
          const failure: sync.SyncFailure = {
            code: f.code ?? "MAPPING_INVALID_FIELD",
            owner: f.owner ?? "INTEGRATION",
            field: f.field,
            message: f.message,
            remediation: f.remediation,
          };
          outcomes.set(row.id, {
            id: row.id,
            status: "FAILED",
            reason: `mapping failed on ${f.field}: ${f.message}`,
          });
          failures.push({ row, record, failure });
        } else if (mapped.changes.length === 0) {
          outcomes.set(row.id, {
            id: row.id,
            status: "SKIPPED",
            reason: "maps to nothing the hub tracks",
          });
        } else {
          for (const c of mapped.changes) {
            changes.push({
              inboxId: row.id,
              entityType: c.entityType,
              system: c.system,
              object: c.object,
              externalId: c.externalId,
              fields: c.fields,
              parents: c.parents,
              state: c.state,
              matchId: c.matchId,
              matchOn: c.matchOn,
              matchParent: c.matchParent,
              create: c.create,
              deleted: c.deleted,
              sourceModifiedAt: record.sourceModifiedAt ?? null,
            });
          }
        }
      }
      const results = await sync.applySyncChanges(tx, ctx, changes);
      // Several changes of one record: FAILED beats WAITING beats APPLIED beats SKIPPED.
      const rank = { FAILED: 3, WAITING: 2, APPLIED: 1, SKIPPED: 0 } as const;
      // One outcome per change, in input order: a change is its outcome's index (a record can
      // have several changes of one entity type, a timecard's days).
      const perRow = new Map<number, sync.ChangeOutcome[]>();
      const changeOf = new Map<sync.ChangeOutcome, sync.SyncChangeInput>();
      results.forEach((r, i) => {
        changeOf.set(r, changes[i]!);
        const list = perRow.get(r.inboxId);
        if (list) list.push(r);
        else perRow.set(r.inboxId, [r]);
      });
      const rowOf = new Map(sourceRows.map((r) => [r.id, r]));
      const applied: AppliedChange[] = [];
      for (const [inboxId, list] of perRow) {
        for (const o of list) {
          const change = changeOf.get(o)!;
          if ((o.status === "APPLIED" || o.status === "SKIPPED") && o.entityId)
            appliedKeys.push(sync.parentKey(change.system, change.object, change.externalId));
          if (o.status === "APPLIED" && o.entityId)
            applied.push(this.appliedChange(o, change, records.get(inboxId)!));
          if (o.status === "FAILED" && o.failure) {
            failures.push({
              row: rowOf.get(inboxId)!,
              record: records.get(inboxId),
              failure: o.failure,
              entityType: o.entityType,
              entityId: o.entityId,
            });
          }
        }
      }
      const hookNotes = await this.runHooks(tx, ctx.actor, applied, records);
      for (const [inboxId, list] of perRow) {
        const worst = list.reduce((a, b) => (rank[b.status] > rank[a.status] ? b : a));
        const reasons = list.map((o) =>
          list.length > 1 ? `${o.entityType}: ${o.reason}` : o.reason,
        );
        outcomes.set(inboxId, {
          id: inboxId,
          status: worst.status,
          reason: [...reasons, ...(hookNotes.get(inboxId) ?? [])].join(" | "),
          waitingFor: worst.waitingFor ?? null,
          entityType: list.find((o) => o.entityId)?.entityType ?? worst.entityType,
          entityId: list.find((o) => o.entityId)?.entityId ?? null,
          ignoredFields: list.flatMap((o) => o.ignoredFields ?? []),
        });
      }
    }
    for (const f of failures) {
      await sync.raiseSyncException(tx, {
        owner: f.failure.owner,
        severity: "MEDIUM",
        code: f.failure.code,
        entityType: f.entityId ? f.entityType : null,
        entityId: f.entityId ?? null,
        sourceSystem: f.record?.system ?? f.row.system ?? null,
        sourceRef: `${f.row.object}:${f.row.externalId ?? ""}`,
        inboxEventId: f.row.id,
        message: f.failure.message,
        remediation: f.failure.remediation,
        actor: `cdc:${f.row.source}`,
      });
    }
    return { outcomes: [...outcomes.values()], appliedKeys: [...new Set(appliedKeys)] };
  }

  private map(source: string, record: InboundRecord): MapResult {
    const key = mapperKey(record?.system, record?.object);
    const mapper = this.mappers.get(`${source}|${key}`) ?? this.mappers.get(key);
    if (!mapper)
      return { kind: "skip", reason: `no mapper for ${record?.system} ${record?.object}` };
    try {
      return mapper.parse(record);
    } catch (error) {
      return {
        kind: "failure",
        failure: {
          field: "(record)",
          code: "MAPPER_CRASHED",
          message: `the ${record.system} ${record.object} mapper threw: ${(error as Error).message}`,
          remediation: `A defect in pshub's ${record.object} mapper: report it to the integration team with inbox record ${record.object} ${record.externalId}; replay it after the fix.`,
        },
      };
    }
  }

  private appliedChange(
    outcome: sync.ChangeOutcome,
    change: sync.SyncChangeInput,
    record: InboundRecord,
  ): AppliedChange {
    return {
      entityType: outcome.entityType,
      entityId: outcome.entityId!,
      created: outcome.created ?? false,
      changedFields: outcome.changedFields ?? [],
      transition: outcome.transition,
      change: { ...change, system: record.system },
      inboxEventId: outcome.inboxId,
    };
  }

  /**
   * Runs each hook on the applied changes it wants: its `select` narrows the batch in one
   * statement, then each remaining change runs in its own savepoint. Returns notes per inbox row.
   */
  private async runHooks(
    tx: Tx,
    actor: string,
    applied: AppliedChange[],
    records: Map<number, InboundRecord>,
  ): Promise<Map<number, string[]>> {
    const notes = new Map<number, string[]>();
    for (const hook of this.hooks) {
      const wanted = applied.filter(
        (a) => !hook.entityTypes || hook.entityTypes.includes(a.entityType),
      );
      if (wanted.length === 0) continue;
      const due = hook.select ? await hook.select(tx, wanted) : wanted;
      for (const a of due) {
        try {
          await tx.transaction((sp) => hook.run(sp, a));
        } catch (error) {
          const record = records.get(a.inboxEventId)!;
          const remediable = error instanceof sync.RemediableError ? error : undefined;
          const list = notes.get(a.inboxEventId) ?? [];
          list.push(`hook ${hook.name} failed: ${(error as Error).message}`);
          notes.set(a.inboxEventId, list);
          await sync.raiseSyncException(tx, {
            ...(remediable?.exception ?? {
              owner: "INTEGRATION",
              code: "HOOK_FAILED",
              entityType: a.entityType,
              entityId: a.entityId,
              message: `after-apply hook ${hook.name} failed on ${a.entityType} ${a.entityId}: ${(error as Error).message}`,
              remediation: `Check ${a.entityType} ${a.entityId} (from ${record.system} ${record.object} ${record.externalId}); a new change of the record in the source runs ${hook.name} again.`,
            }),
            inboxEventId: a.inboxEventId,
            actor,
          });
        }
      }
    }
    return notes;
  }
}

function count(outcomes: sync.InboxOutcome[]) {
  const stats = { applied: 0, skipped: 0, failed: 0, waiting: 0 };
  for (const o of outcomes) {
    if (o.status === "APPLIED") stats.applied++;
    else if (o.status === "SKIPPED") stats.skipped++;
    else if (o.status === "FAILED") stats.failed++;
    else stats.waiting++;
  }
  return stats;
}
