/**
 * The SOQL poller for one object of a Salesforce org (CRM or Certinia), one page per pollOnce:
 *
 * 1. Full load (first sync): a high-water mark H = newest SystemModstamp, then every row with
 *    SystemModstamp <= H — Bulk API 2.0 query job above `bulkThreshold` rows (results paged by
 *    Sforce-Locator), REST query below (nextRecordsUrl paging). The job id / locator / next URL
 *    and the loaded count ride in the cursor, so a restart resumes. At the end the loaded count
 *    must equal SELECT COUNT() … WHERE SystemModstamp <= H exactly, or the load starts over.
 * 2. Incremental: keyset on (SystemModstamp, Id) — WHERE SystemModstamp > T OR (SystemModstamp = T
 *    AND Id > I) ORDER BY SystemModstamp, Id LIMIT n — so rows sharing a timestamp across a page
 *    boundary are not skipped. When caught up: a lookback sweep (commit lag: a row can become
 *    visible with a stamp older than the cursor), deletes from queryAll (IsDeleted = true) and
 *    the delete log (sobject().deleted()); INVALID_REPLICATION_DATE (purged log) → a full
 *    reconciliation of the object's ids against the hub's links.
 *
 * Every page goes to Ingest together with the cursor that covers it (one transaction).
 */

import { hash } from "node:crypto";
import type { Record as JsRecord } from "jsforce";
import { HttpApi } from "jsforce/lib/http-api.js";
import type {
  CursorUpdate,
  InboundRecord,
  PollContext,
  PollResult,
  SourceSystem,
} from "../engine/types.ts";
import {
  ApiPausedError,
  errorCodeOf,
  SalesforceApiError,
  type SalesforceClient,
} from "./client.ts";
import { dateTime, soqlDateTime, soqlString } from "./values.ts";

export interface PollerOptions {
  connector: string;
  system: SourceSystem;
  object: string;
  /** Source fields to read (Id, SystemModstamp, LastModifiedById are added). */
  fields: string[];
  pageSize: number;
  bulkThreshold: number;
  lookbackMs: number;
  /** How often the lookback sweep and the delete checks run while caught up. */
  sweepEveryMs: number;
  /** External ids the hub links for this object (reconciliation after a purged delete log). */
  knownExternalIds?: (object: string) => Promise<string[]>;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

export interface ObjectCursor {
  phase?: "full" | "incremental";
  full?: {
    hwm: string | null;
    mode: "bulk" | "rest";
    jobId?: string;
    locator?: string;
    nextRecordsUrl?: string;
    started?: boolean;
    loaded: number;
    expected: number;
    attempts: number;
    checkStartedAt: string;
  };
  ts?: string;
  id?: string;
  deletedTs?: string;
  deletedCheckedUntil?: string;
  sweptAt?: string;
}

/** A page of a full load as records, and where the next one is (a Bulk API 2.0 locator or a REST
 *  nextRecordsUrl; none at the end). */
interface FullLoadPage {
  records: InboundRecord[];
  next?: string;
}

const SYSTEM_FIELDS = ["Id", "SystemModstamp", "LastModifiedById"];

/** sha1 of the JSON of the record's [field, value] pairs in field-name order. The key is an
 *  inbox unique key, so its text must not change: a different one would record (and apply) again
 *  a version the inbox already has. `sorted` is the record's own field names in that order when
 *  the caller knows them (every row of a query has the same ones: no sort per record). */
function contentHash(fields: Record<string, unknown>, sorted?: readonly string[]): string {
  const keys = sorted ?? Object.keys(fields).sort();
  const pairs = new Array<[string, unknown]>(keys.length);
  for (let i = 0; i < keys.length; i++) pairs[i] = [keys[i]!, fields[keys[i]!]];
  return hash("sha1", JSON.stringify(pairs), "base64url").slice(0, 12);
}

/** The smallest incremental page QUERY_TIMEOUT halves the page size down to. */
const MIN_PAGE_SIZE = 200;

export class ObjectPoller {
  readonly selectFields: string[];
  /** Rows per incremental page: `pageSize`, halved after each QUERY_TIMEOUT (for the process). */
  pageLimit: number;

  constructor(
    private readonly client: SalesforceClient,
    readonly options: PollerOptions,
  ) {
    this.selectFields = [...new Set([...SYSTEM_FIELDS, ...options.fields])];
    this.sortedFields = [...this.selectFields].sort();
    this.pageLimit = options.pageSize;
  }

  /** selectFields in the order contentHash takes them. */
  private readonly sortedFields: readonly string[];

  private get soqlFields() {
    return this.selectFields.join(", ");
  }

  /** A source row as an inbound record; `incremental` rows carry LastModifiedById for loop
   *  prevention (a full load records everything). */
  toRecord(row: JsRecord, incremental: boolean): InboundRecord {
    const fields: Record<string, unknown> = {};
    let n = 0;
    for (const k in row) {
      if (k === "attributes" || !Object.hasOwn(row, k)) continue;
      const v = row[k];
      fields[k] = v === "" ? null : v;
      n++;
    }
    // A row with exactly the selected fields (the usual case) hashes them in the order known
    // up front; any other row sorts its own.
    const sorted =
      n === this.sortedFields.length && this.sortedFields.every((k) => Object.hasOwn(fields, k))
        ? this.sortedFields
        : undefined;
    const id = String(fields.Id);
    const stamp = dateTime(fields.SystemModstamp) ?? undefined;
    return {
      system: this.options.system,
      object: this.options.object,
      externalId: id,
      op: "UPSERT",
      fields,
      sourceModifiedAt: stamp,
      ...(incremental && typeof fields.LastModifiedById === "string"
        ? { modifiedBy: fields.LastModifiedById }
        : {}),
      // SystemModstamp has second precision: the content tells two same-second versions apart,
      // and the same version read twice (lookback, overlapping pages) is one inbox row.
      dedupeKey: `${this.options.object}:${id}:${stamp ?? ""}:${contentHash(fields, sorted)}`,
    };
  }

  deleteRecord(id: string, at: string | undefined, modifiedBy?: string): InboundRecord {
    return {
      system: this.options.system,
      object: this.options.object,
      externalId: id,
      op: "DELETE",
      fields: { Id: id, IsDeleted: true },
      sourceModifiedAt: at,
      ...(modifiedBy ? { modifiedBy } : {}),
      dedupeKey: `${this.options.object}:${id}:deleted`,
    };
  }

  private cursorUpdate(cursor: ObjectCursor, lagMs?: number): CursorUpdate {
    return {
      connector: this.options.connector,
      object: this.options.object,
      cursor: cursor as Record<string, unknown>,
      ...(lagMs !== undefined ? { lagMs } : {}),
    };
  }

  private budget(): PollResult["apiBudget"] {
    return this.client.apiUsage;
  }

  async pollOnce(ctx: PollContext): Promise<PollResult> {
    const cursor = { ...(ctx.cursor as ObjectCursor) };
    try {
      if (cursor.phase !== "incremental") return await this.fullLoadStep(cursor, ctx);
      return await this.incrementalStep(cursor, ctx);
    } catch (err) {
      if (err instanceof ApiPausedError) {
        return { records: 0, more: false, pausedUntil: err.until, apiBudget: this.budget() };
      }
      if (errorCodeOf(err) === "QUERY_TIMEOUT") return this.onQueryTimeout(cursor, ctx, err);
      throw err;
    }
  }

  /**
   * QUERY_TIMEOUT ("Your query request was running for too long"): a REST full load goes on as a
   * Bulk API 2.0 query job (what Salesforce advises for large queries; it starts over, the rows
   * already read are duplicates), an incremental page is halved (down to MIN_PAGE_SIZE; below
   * that the error stands and the engine backs off).
   */
  private async onQueryTimeout(
    cursor: ObjectCursor,
    ctx: PollContext,
    err: unknown,
  ): Promise<PollResult> {
    const o = this.options;
    if (cursor.phase !== "incremental" && cursor.full?.mode === "rest") {
      o.log?.("query timed out; the full load goes on with Bulk API 2.0", { object: o.object });
      await ctx.ingest(
        [],
        this.cursorUpdate({
          ...cursor,
          full: {
            ...cursor.full,
            mode: "bulk",
            started: false,
            nextRecordsUrl: undefined,
            loaded: 0,
          },
        }),
      );
      return { records: 0, more: true, apiBudget: this.budget() };
    }
    if (cursor.phase === "incremental" && this.pageLimit > MIN_PAGE_SIZE) {
      this.pageLimit = Math.max(MIN_PAGE_SIZE, Math.floor(this.pageLimit / 2));
      o.log?.("query timed out; smaller pages", { object: o.object, pageSize: this.pageLimit });
      return { records: 0, more: true, apiBudget: this.budget() };
    }
    throw err;
  }

  async count(where: string): Promise<number> {
    const res = await this.client.call((c) =>
      c.query(`SELECT COUNT() FROM ${this.options.object}${where ? ` WHERE ${where}` : ""}`),
    );
    return res.totalSize;
  }

  // ---------------------------------------------------------------------------------------------
  // Full load
  // ---------------------------------------------------------------------------------------------

  private hwmWhere(hwm: string | null): string {
    return hwm === null ? "" : `SystemModstamp <= ${soqlDateTime(hwm)}`;
  }

  private async fullLoadStep(cursor: ObjectCursor, ctx: PollContext): Promise<PollResult> {
    const o = this.options;
    if (!cursor.full) {
      const newest = await this.client.call((c) =>
        c.query(`SELECT Id, SystemModstamp FROM ${o.object} ORDER BY SystemModstamp DESC LIMIT 1`),
      );
      const hwm = dateTime(newest.records[0]?.SystemModstamp) ?? null;
      const expected = hwm === null ? 0 : await this.count(this.hwmWhere(hwm));
      cursor.phase = "full";
      cursor.full = {
        hwm,
        mode: expected > o.bulkThreshold ? "bulk" : "rest",
        loaded: 0,
        expected,
        attempts: ((ctx.cursor as ObjectCursor).full?.attempts ?? 0) + 1,
        checkStartedAt: new Date().toISOString(),
      };
      await ctx.ingest([], this.cursorUpdate(cursor));
      o.log?.("full load started", { object: o.object, expected, mode: cursor.full.mode });
      return { records: 0, more: true, apiBudget: this.budget() };
    }
    const full = cursor.full;
    if (full.hwm === null) return this.finishFullLoad(cursor, ctx, 0);
    const soql = `SELECT ${this.soqlFields} FROM ${o.object} WHERE ${this.hwmWhere(full.hwm)}`;
    let page: FullLoadPage;
    if (full.mode === "rest") {
      try {
        page = full.nextRecordsUrl
          ? await this.pageAhead(`rest|${full.nextRecordsUrl}`, () =>
              this.restPage(full.nextRecordsUrl!),
            )
          : full.started
            ? { records: [] }
            : await this.restPage(undefined, soql);
      } catch (err) {
        if (errorCodeOf(err) !== "INVALID_QUERY_LOCATOR") throw err;
        o.log?.("query locator expired; restarting the full load", { object: o.object });
        return this.restartFullLoad(ctx);
      }
      full.started = true;
      full.nextRecordsUrl = page.next;
      // The next page is fetched (and read into records) while this one is ingested.
      if (page.next) {
        const url = page.next;
        this.prefetch(`rest|${url}`, () => this.restPage(url));
      }
    } else {
      if (!full.jobId) {
        const job = await this.client.call((c) =>
          c.request<{ id: string }>({
            method: "POST",
            url: `/services/data/v${c.version}/jobs/query`,
            body: JSON.stringify({ operation: "query", query: soql }),
            headers: { "Content-Type": "application/json; charset=utf-8" },
          }),
        );
        full.jobId = job.id;
        await ctx.ingest([], this.cursorUpdate(cursor));
        return { records: 0, more: true, apiBudget: this.budget() };
      }
      let info: { state: string };
      try {
        info = await this.client.call((c) =>
          c.request<{ state: string }>(`/services/data/v${c.version}/jobs/query/${full.jobId}`),
        );
      } catch (err) {
        if (errorCodeOf(err) !== "NOT_FOUND") throw err;
        o.log?.("bulk query job is gone; restarting the full load", {
          object: o.object,
          jobId: full.jobId,
        });
        return this.restartFullLoad(ctx);
      }
      if (info.state === "Failed" || info.state === "Aborted") {
        o.log?.("bulk query job ended without results; restarting", {
          object: o.object,
          state: info.state,
        });
        return this.restartFullLoad(ctx);
      }
      if (info.state !== "JobComplete") {
        await new Promise((r) => setTimeout(r, 200));
        return { records: 0, more: true, apiBudget: this.budget() };
      }
      const jobId = full.jobId;
      page = await this.pageAhead(`${jobId}|${full.locator}`, () =>
        this.bulkResults(jobId, full.locator),
      );
      full.locator = page.next;
      // The next page is fetched (and read into records) while this one is ingested (and
      // applied).
      if (page.next) {
        const locator = page.next;
        this.prefetch(`${jobId}|${locator}`, () => this.bulkResults(jobId, locator));
      }
    }
    const records = page.records;
    const done = page.next === undefined;
    full.loaded += records.length;
    if (done) return this.finishFullLoad(cursor, ctx, records.length, records);
    await ctx.ingest(records, this.cursorUpdate(cursor));
    return { records: records.length, more: true, apiBudget: this.budget() };
  }

  /** A full-load page requested ahead, keyed by where it is (`job|locator` of a Bulk API 2.0
   *  job, whose pages never change, or `rest|nextRecordsUrl`). */
  private prefetched?: { key: string; page: Promise<FullLoadPage> };

  /** The page at `key`: the one prefetched for it, else fetched now. */
  private pageAhead(key: string, fetch: () => Promise<FullLoadPage>): Promise<FullLoadPage> {
    const hit = this.prefetched?.key === key ? this.prefetched.page : undefined;
    this.prefetched = undefined;
    return hit ?? fetch();
  }

  /** Starts fetching a page the next step will read; its error surfaces when that step awaits
   *  it (the cursor, not this cache, says where the load is: another key discards it). */
  private prefetch(key: string, fetch: () => Promise<FullLoadPage>): void {
    const page = fetch();
    page.catch(() => {});
    this.prefetched = { key, page };
  }

  /** One REST query page as full-load records: the query's first, or the one at nextRecordsUrl. */
  private async restPage(nextRecordsUrl: string | undefined, soql = ""): Promise<FullLoadPage> {
    const page = nextRecordsUrl
      ? await this.client.call((c) =>
          c.request<{ records: JsRecord[]; done: boolean; nextRecordsUrl?: string }>(
            nextRecordsUrl,
          ),
        )
      : await this.client.call((c) => c.query(soql, { autoFetch: false }));
    return {
      records: page.records.map((row) => this.toRecord(row as JsRecord, false)),
      next: page.done ? undefined : page.nextRecordsUrl,
    };
  }

  /** One page of Bulk API 2.0 query results (CSV) and the next Sforce-Locator. */
  private async bulkResults(jobId: string, locator: string | undefined): Promise<FullLoadPage> {
    return this.client.call(async (conn) => {
      let next: string | undefined;
      const api = new HttpApi(conn, { responseType: "text/csv" });
      api.on("response", (res: { headers: Record<string, string> }) => {
        next = res.headers["sforce-locator"];
        // A bare HttpApi does not update conn.limitInfo as conn.request does: read it here.
        const usage = /api-usage=(\d+)\/(\d+)/.exec(res.headers["sforce-limit-info"] ?? "");
        if (usage)
          conn.limitInfo = { apiUsage: { used: Number(usage[1]), limit: Number(usage[2]) } };
      });
      const params = new URLSearchParams({ maxRecords: String(this.options.pageSize) });
      if (locator) params.set("locator", locator);
      const rows = (await api.request({
        method: "GET",
        url: `${conn.instanceUrl}/services/data/v${conn.version}/jobs/query/${jobId}/results?${params}`,
        headers: { Accept: "text/csv" },
      })) as JsRecord[] | string;
      const records = typeof rows === "string" ? [] : rows.map((row) => this.toRecord(row, false));
      return { records, next: next && next !== "null" ? next : undefined };
    });
  }

  private async restartFullLoad(ctx: PollContext): Promise<PollResult> {
    const attempts = (ctx.cursor as ObjectCursor).full?.attempts ?? 0;
    await ctx.ingest(
      [],
      this.cursorUpdate({ phase: "full", ...(attempts ? { full: undefined } : {}) }),
    );
    return { records: 0, more: true, apiBudget: this.budget() };
  }

  private async finishFullLoad(
    cursor: ObjectCursor,
    ctx: PollContext,
    n: number,
    records: InboundRecord[] = [],
  ): Promise<PollResult> {
    const full = cursor.full!;
    const o = this.options;
    // The last Id stamped H, read before the count: when the count then equals what was loaded,
    // every row at <= H is in, and the incremental starts after it rather than reading every row
    // stamped H again (a bulk import's rows can share that one second: a second full pass). Rows
    // of H that become visible later are commit lag, the lookback sweep's, as for any keyset
    // cursor; any other count keeps the incremental from the start of H's second.
    const lastAtHwm =
      full.hwm === null
        ? undefined
        : await this.client.call((c) =>
            c.query(
              `SELECT Id FROM ${o.object} WHERE SystemModstamp = ${soqlDateTime(full.hwm!)} ORDER BY Id DESC LIMIT 1`,
            ),
          );
    const now = full.hwm === null ? 0 : await this.count(this.hwmWhere(full.hwm));
    if (full.loaded !== full.expected && full.loaded !== now) {
      if (full.attempts >= 3) {
        await ctx.ingest(records, this.cursorUpdate({ phase: "full" }));
        throw new SalesforceApiError(
          `full load of ${o.object}: loaded ${full.loaded} records but the source counts ${now} (${full.expected} at the start); giving up after ${full.attempts} attempts`,
          "FULL_LOAD_COUNT_MISMATCH",
        );
      }
      o.log?.("full load count mismatch; loading again", {
        object: o.object,
        loaded: full.loaded,
        expected: full.expected,
        now,
      });
      await ctx.ingest(
        records,
        this.cursorUpdate({
          phase: "full",
          full: {
            ...full,
            jobId: undefined,
            locator: undefined,
            nextRecordsUrl: undefined,
            started: false,
            loaded: 0,
            expected: now,
          },
        }),
      );
      return { records: n, more: true, apiBudget: this.budget() };
    }
    const next: ObjectCursor = {
      phase: "incremental",
      ts: full.hwm ?? "1970-01-01T00:00:00.000Z",
      id: full.loaded === now ? String(lastAtHwm?.records[0]?.Id ?? "") : "",
      deletedTs: full.hwm ?? "1970-01-01T00:00:00.000Z",
      deletedCheckedUntil: full.checkStartedAt,
      sweptAt: new Date().toISOString(),
    };
    await ctx.ingest(records, this.cursorUpdate(next));
    o.log?.("full load complete", { object: o.object, loaded: full.loaded });
    return { records: n, more: true, apiBudget: this.budget() };
  }

  // ---------------------------------------------------------------------------------------------
  // Incremental
  // ---------------------------------------------------------------------------------------------

  private async incrementalStep(cursor: ObjectCursor, ctx: PollContext): Promise<PollResult> {
    const o = this.options;
    const ts = cursor.ts ?? "1970-01-01T00:00:00.000Z";
    const lit = soqlDateTime(ts);
    const where = cursor.id
      ? `(SystemModstamp > ${lit} OR (SystemModstamp = ${lit} AND Id > ${soqlString(cursor.id)}))`
      : `SystemModstamp >= ${lit}`;
    const limit = this.pageLimit;
    const soql = `SELECT ${this.soqlFields} FROM ${o.object} WHERE ${where} ORDER BY SystemModstamp ASC, Id ASC LIMIT ${limit}`;
    const res = await this.client.call((c) => c.query(soql, { autoFetch: true, maxFetch: limit }));
    const rows = res.records as JsRecord[];
    const records = rows.map((row) => this.toRecord(row, true));
    const last = records.at(-1);
    if (last) {
      cursor.ts = last.sourceModifiedAt;
      cursor.id = last.externalId;
    }
    const lagMs = last?.sourceModifiedAt
      ? Math.max(0, Date.now() - Date.parse(last.sourceModifiedAt))
      : undefined;
    if (records.length >= limit) {
      await ctx.ingest(records, this.cursorUpdate(cursor, lagMs));
      return { records: records.length, more: true, apiBudget: this.budget() };
    }
    // Caught up: the lookback sweep and deletes, at most every sweepEveryMs.
    const extra: InboundRecord[] = [];
    const due = !cursor.sweptAt || Date.now() - Date.parse(cursor.sweptAt) >= o.sweepEveryMs;
    if (due) {
      extra.push(...(await this.lookback(cursor)));
      extra.push(...(await this.deletes(cursor, ctx)));
      cursor.sweptAt = new Date().toISOString();
    }
    await ctx.ingest([...records, ...extra], this.cursorUpdate(cursor, lagMs ?? 0));
    return { records: records.length + extra.length, more: false, apiBudget: this.budget() };
  }

  /** Rows whose stamp is inside the lookback window behind the cursor (commit lag); ones the
   *  inbox has already seen are duplicates by their dedupe key. */
  private async lookback(cursor: ObjectCursor): Promise<InboundRecord[]> {
    const o = this.options;
    const to = cursor.ts ?? new Date().toISOString();
    const from = new Date(Date.parse(to) - o.lookbackMs).toISOString();
    const soql = `SELECT ${this.soqlFields} FROM ${o.object} WHERE SystemModstamp >= ${soqlDateTime(from)} AND SystemModstamp <= ${soqlDateTime(to)} ORDER BY SystemModstamp ASC, Id ASC`;
    const res = await this.client.call((c) => c.query(soql, { autoFetch: true, maxFetch: 50_000 }));
    return (res.records as JsRecord[]).map((row) => this.toRecord(row, true));
  }

  private async deletes(cursor: ObjectCursor, ctx: PollContext): Promise<InboundRecord[]> {
    const o = this.options;
    const out: InboundRecord[] = [];
    // Soft deletes still in the recycle bin.
    const since = soqlDateTime(cursor.deletedTs ?? "1970-01-01T00:00:00.000Z");
    const bin = await this.client.call((c) =>
      c
        .query(
          `SELECT Id, SystemModstamp, LastModifiedById FROM ${o.object} WHERE IsDeleted = true AND SystemModstamp >= ${since} ORDER BY SystemModstamp ASC, Id ASC`,
          { autoFetch: true, maxFetch: 100_000 },
        )
        .scanAll(true),
    );
    for (const row of bin.records as JsRecord[]) {
      const at = dateTime(row.SystemModstamp) ?? undefined;
      out.push(
        this.deleteRecord(
          String(row.Id),
          at,
          typeof row.LastModifiedById === "string" ? row.LastModifiedById : undefined,
        ),
      );
      if (at && (!cursor.deletedTs || at > cursor.deletedTs)) cursor.deletedTs = at;
    }
    // The delete log (also records emptied from the recycle bin); needs a window over a minute.
    const start = cursor.deletedCheckedUntil ?? new Date(Date.now() - 86_400_000).toISOString();
    const end = new Date();
    if (end.getTime() - Date.parse(start) > 61_000) {
      try {
        const res = await this.client.call((c) =>
          c.sobject(o.object).deleted(start, end.toISOString()),
        );
        for (const d of res.deletedRecords)
          out.push(this.deleteRecord(d.id, dateTime(d.deletedDate) ?? undefined));
        cursor.deletedCheckedUntil = dateTime(res.latestDateCovered) ?? end.toISOString();
      } catch (err) {
        if (errorCodeOf(err) !== "INVALID_REPLICATION_DATE") throw err;
        o.log?.("delete log purged; reconciling every id", {
          object: o.object,
          error: (err as Error).message,
        });
        out.push(...(await this.reconcile(ctx)));
        cursor.deletedCheckedUntil = end.toISOString();
      }
    }
    return out;
  }

  /** Full reconciliation: every id the hub links for this object that the source no longer has
   *  becomes a delete. */
  async reconcile(_ctx: PollContext): Promise<InboundRecord[]> {
    const o = this.options;
    if (!o.knownExternalIds) {
      o.log?.("no link reader configured: deletes missed by the purged log cannot be reconciled", {
        object: o.object,
      });
      return [];
    }
    const res = await this.client.call((c) =>
      c.query(`SELECT Id FROM ${o.object}`, { autoFetch: true, maxFetch: 10_000_000 }),
    );
    const present = new Set((res.records as JsRecord[]).map((r) => String(r.Id)));
    const known = await o.knownExternalIds(o.object);
    const gone = known.filter((id) => !present.has(id.split(":")[0]!));
    const ids = [...new Set(gone.map((id) => id.split(":")[0]!))];
    o.log?.("reconciled", {
      object: o.object,
      source: present.size,
      hub: known.length,
      deleted: ids.length,
    });
    return ids.map((id) => this.deleteRecord(id, new Date().toISOString()));
  }

  /** Reads records by id now (resync, CDC gap events). */
  async fetchByIds(ids: string[]): Promise<InboundRecord[]> {
    const out: InboundRecord[] = [];
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      const res = await this.client.call((c) =>
        c.query(
          `SELECT ${this.soqlFields} FROM ${this.options.object} WHERE Id IN (${chunk.map(soqlString).join(", ")})`,
          { autoFetch: true, maxFetch: 1000 },
        ),
      );
      out.push(...(res.records as JsRecord[]).map((row) => this.toRecord(row, true)));
    }
    return out;
  }

  /** Records changed since `sinceIso` (CDC overflow or an expired replay id). */
  async fetchChangedSince(sinceIso: string): Promise<InboundRecord[]> {
    const soql = `SELECT ${this.soqlFields} FROM ${this.options.object} WHERE SystemModstamp >= ${soqlDateTime(sinceIso)} ORDER BY SystemModstamp ASC, Id ASC`;
    const res = await this.client.call((c) =>
      c.query(soql, { autoFetch: true, maxFetch: 1_000_000 }),
    );
    return (res.records as JsRecord[]).map((row) => this.toRecord(row, true));
  }
}
