/**
 * The applier: inbox → mappers → ONE transaction per batch. Claims RECEIVED rows (FOR UPDATE SKIP
 * LOCKED, so appliers in several processes never take the same row), maps each with its
 * (system, object) mapper, applies the canonical changes set-based through db's
 * `sync.applySyncChanges` (source links, domain events, state transitions, field ownership),
 * runs the after-apply hooks, raises sync exceptions for what cannot be applied (raw payload
 * stays in the inbox for replay) and writes every inbox outcome with its reason; after the commit
 * it wakes the records waiting for a parent this batch applied, and this batch's waiting records
 * whose parent another process has committed meanwhile.
 */
import { type DbClient, type Logger, resolveInboxExceptions, sync } from "@pshub/db";
import type { AfterApplyHook, AppliedChange, InboundRecord, Mapper, MapResult } from "./types.ts";

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
  async applyBatch(): Promise<ApplyStats & { claimed: number; woken: number }> {
    const wake = { parents: [] as string[], waitingIds: [] as number[] };
    const stats = await this.applyInTransaction(wake);
    stats.woken = await sync.wakeWaiting(this.client.db, wake.parents, wake.waitingIds);
    return stats;
  }

  private applyInTransaction(wake: { parents: string[]; waitingIds: number[] }) {
    return this.client.db.transaction(async (tx) => {
      const rows = await sync.claimInbox(tx, this.batchSize);
      const stats = {
        claimed: rows.length,
        batches: 1,
        applied: 0,
        skipped: 0,
        failed: 0,
        waiting: 0,
        woken: 0,
        resolved: 0,
      };
      if (rows.length === 0) return stats;
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
        const perRow = new Map<number, sync.ChangeOutcome[]>();
        for (const r of results) {
          const list = perRow.get(r.inboxId);
          if (list) list.push(r);
          else perRow.set(r.inboxId, [r]);
        }
        const changeOf = new Map<string, sync.SyncChangeInput>();
        for (const c of changes) changeOf.set(`${c.inboxId}|${c.entityType}`, c);
        const rowOf = new Map(sourceRows.map((r) => [r.id, r]));
        const applied: AppliedChange[] = [];
        for (const [inboxId, list] of perRow) {
          for (const o of list) {
            const change = changeOf.get(`${inboxId}|${o.entityType}`)!;
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
      const list = [...outcomes.values()];
      await sync.recordInboxOutcomes(tx, list);
      // Woken after the commit (see the end of applyBatch): a record of this batch that now waits
      // for a parent applied later in the same batch, or by another process, is woken too.
      wake.parents = [...new Set(appliedKeys)];
      wake.waitingIds = list.filter((o) => o.status === "WAITING").map((o) => o.id);
      // A replayed (or re-tried) event that now applies closes the exceptions its earlier failure
      // raised; first attempts have none, so only rows seen before are looked up.
      const seenBefore = new Map(rows.filter((r) => r.attempts > 0).map((r) => [r.id, r.source]));
      const bySourceDone = new Map<string, { inboxEventId: number; status: string }[]>();
      for (const o of list) {
        const source = seenBefore.get(o.id);
        if (!source || (o.status !== "APPLIED" && o.status !== "SKIPPED")) continue;
        const done = bySourceDone.get(source) ?? [];
        done.push({ inboxEventId: o.id, status: o.status });
        bySourceDone.set(source, done);
      }
      for (const [source, done] of bySourceDone)
        stats.resolved += await resolveInboxExceptions(tx, done, `cdc:${source}`);
      for (const o of list) {
        if (o.status === "APPLIED") stats.applied++;
        else if (o.status === "SKIPPED") stats.skipped++;
        else if (o.status === "FAILED") stats.failed++;
        else stats.waiting++;
      }
      this.logger?.debug({ ...stats }, "applied inbox batch");
      return stats;
    });
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
