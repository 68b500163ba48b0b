/**
 * The NetSuite (ERP) connector: SuiteQL polling of customers, invoices and customer payments.
 *
 * Each object's query orders by a unique key (lastmodifieddate, id[, applied invoice]) and pages
 * by keyset: every page is `limit=n&offset=0` over the rows strictly after the last key read, while
 * `hasMore`. (Offset paging over rows that change while they are read skips the rows a change
 * moves past, and a poll restarting `lookback` before its cursor cannot advance when more rows than
 * it reads share that window — a bulk import stamps thousands with one lastmodifieddate.) The
 * cursor is the last (lastmodified, id) ingested, stored in the transaction of the page it covers.
 * Caught up, a sweep reads the `lookbackSeconds` behind the cursor once, so a row committed late
 * with an older lastmodifieddate (commit lag) is still read; rows read twice are duplicates by
 * their dedupe key (`object:id:lastmodified`) and are not recorded again. 429 pauses the object
 * (Retry-After); 5xx, timeouts and network errors are thrown for the engine's backoff.
 *
 * Timestamps are read with TO_CHAR(…, 'YYYY-MM-DD HH24:MI:SS') and compared with TO_TIMESTAMP in
 * the same format, i.e. in the time zone of the integration role (set it to GMT so
 * sourceModifiedAt is UTC).
 */
import type { Connector, InboundRecord, PollContext, PollResult } from "../engine/types.ts";
import { NetSuiteClient, type NetSuiteClientOptions, NetSuiteError } from "./client.ts";
import { netsuiteMappers } from "./mappers.ts";

const NETSUITE_OBJECTS = ["customer", "invoice", "customerpayment"] as const;
export type NetSuiteObject = (typeof NETSUITE_OBJECTS)[number];

export interface NetSuiteConnectorOptions extends NetSuiteClientOptions {
  /** Connector name (inbox source, sync_cursor.connector). Default "netsuite". */
  name?: string;
  pageSize?: number;
  lookbackSeconds?: number;
  /** Pages per pollOnce before handing back (the engine polls again at once). */
  maxPagesPerPoll?: number;
  pollIntervalMs?: number;
}

const TS = "'YYYY-MM-DD HH24:MI:SS'";

/** A position in an object's order: (lastmodified, id[, applied invoice]). */
interface Key {
  lastModified: string;
  /** The row key (`id`, or `id:invoice` for payments). */
  id: string;
}

/**
 * Which rows a query reads, in the object's unique order:
 * - `after`: strictly after this key (keyset paging: `lm > T OR (lm = T AND id > I …)`);
 * - `from`: lastmodifieddate at or after this time; `through`: at or before this key;
 * - `id`: one record.
 */
interface Filter {
  after?: Key;
  from?: string;
  through?: Key;
  id?: string;
}

const ORDER: Record<NetSuiteObject, { alias: string; cols: string[] }> = {
  customer: { alias: "c", cols: ["c.id"] },
  invoice: { alias: "t", cols: ["t.id"] },
  customerpayment: { alias: "p", cols: ["p.id", "l.previousdoc"] },
};

/** `(lm, cols…) > (T, values…)` (or `<=`) written out lexicographically. */
function keyCondition(object: NetSuiteObject, key: Key, op: ">" | "<="): string {
  const { alias, cols } = ORDER[object];
  const lm = `${alias}.lastmodifieddate`;
  const t = `TO_TIMESTAMP('${key.lastModified.replace(/'/g, "")}', ${TS})`;
  const values = key.id === "" ? [] : key.id.split(":").map((v) => Number(v));
  const strict = op === ">" ? ">" : "<";
  // The innermost comparison decides ties on every column: > for after, <= for through.
  let cond = "";
  for (let i = cols.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v === undefined || Number.isNaN(v)) continue;
    const last = cond === "";
    const here = `${cols[i]} ${last ? op : strict} ${v}`;
    cond = last ? here : `(${here} OR (${cols[i]} = ${v} AND ${cond}))`;
  }
  return cond ? `(${lm} ${strict} ${t} OR (${lm} = ${t} AND ${cond}))` : `${lm} ${op} ${t}`;
}

/** The SuiteQL of each object, ordered by its unique key. */
function netsuiteQuery(object: NetSuiteObject, filter: Filter): string {
  const { alias } = ORDER[object];
  const where = [
    filter.after ? keyCondition(object, filter.after, ">") : "",
    filter.from ? `${alias}.lastmodifieddate >= TO_TIMESTAMP('${filter.from}', ${TS})` : "",
    filter.through ? keyCondition(object, filter.through, "<=") : "",
    filter.id ? `${alias}.id = ${Number(filter.id)}` : "",
  ].filter(Boolean);
  switch (object) {
    case "customer":
      return `SELECT c.id, c.entityid, c.companyname, c.externalid, c.email, c.isinactive, cur.symbol AS currency, TO_CHAR(c.lastmodifieddate, ${TS}) AS lastmodified FROM customer c LEFT JOIN currency cur ON cur.id = c.currency${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY c.lastmodifieddate, c.id`;
    case "invoice":
      return `SELECT t.id, t.tranid, t.externalid, t.entity, t.status, t.voided, t.foreigntotal, t.taxtotal, cur.symbol AS currency, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(t.duedate, 'YYYY-MM-DD') AS duedate, TO_CHAR(t.lastmodifieddate, ${TS}) AS lastmodified FROM transaction t LEFT JOIN currency cur ON cur.id = t.currency WHERE ${["t.type = 'CustInvc'", ...where].join(" AND ")} ORDER BY t.lastmodifieddate, t.id`;
    case "customerpayment":
      return `SELECT p.id, p.tranid, l.previousdoc AS invoice, l.foreignamount AS amount, cur.symbol AS currency, TO_CHAR(p.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(p.lastmodifieddate, ${TS}) AS lastmodified FROM transaction p JOIN nexttransactionlinelink l ON l.nextdoc = p.id LEFT JOIN currency cur ON cur.id = p.currency WHERE ${["p.type = 'CustPymt'", "l.linktype = 'Payment'", ...where].join(" AND ")} ORDER BY p.lastmodifieddate, p.id, l.previousdoc`;
  }
}

/** 'YYYY-MM-DD HH24:MI:SS' (NetSuite, GMT) ↔ epoch ms. */
function parseNetSuiteTime(s: string): number {
  return Date.parse(`${s.replace(" ", "T")}Z`);
}
export function formatNetSuiteTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

interface NetSuiteCursor {
  lastModified?: string;
  id?: string;
  /** A lookback sweep under way: rows from `from` through the cursor, read after `after`. */
  sweep?: { from: string; after?: Key };
}

export class NetSuiteConnector implements Connector {
  readonly name: string;
  readonly system = "ERP" as const;
  readonly objects = [...NETSUITE_OBJECTS];
  readonly mappers = netsuiteMappers;
  readonly pollIntervalMs?: number;
  readonly client: NetSuiteClient;
  private readonly pageSize: number;
  private readonly lookbackMs: number;
  private readonly maxPages: number;

  constructor(options: NetSuiteConnectorOptions) {
    this.name = options.name ?? "netsuite";
    this.client = new NetSuiteClient(options);
    this.pageSize = options.pageSize ?? 1000;
    this.lookbackMs = (options.lookbackSeconds ?? 300) * 1000;
    this.maxPages = options.maxPagesPerPoll ?? 20;
    this.pollIntervalMs = options.pollIntervalMs;
  }

  /** The unique key of a row within its object (payments: one row per applied invoice). */
  private key(object: NetSuiteObject, row: Record<string, unknown>): string {
    return object === "customerpayment" ? `${row.id}:${row.invoice}` : String(row.id);
  }

  toRecord(object: NetSuiteObject, row: Record<string, unknown>, dedupeSuffix = ""): InboundRecord {
    const { links: _links, ...fields } = row;
    const externalId = this.key(object, row);
    const lastmodified = String(row.lastmodified ?? "");
    const at = lastmodified ? parseNetSuiteTime(lastmodified) : Number.NaN;
    return {
      system: "ERP",
      object,
      externalId,
      op: "UPSERT",
      fields,
      sourceModifiedAt: Number.isNaN(at) ? undefined : new Date(at).toISOString(),
      dedupeKey: `${object}:${externalId}:${lastmodified}${dedupeSuffix}`,
    };
  }

  /**
   * One poll, up to `maxPagesPerPoll` pages, every page a keyset query (offset 0) after the last
   * key read: a row changed while paging only moves to the end, so nothing shifts between pages,
   * and no query approaches the 100,000-result limit. Caught up, the lookback window behind the
   * cursor is swept once (commit lag), paged the same way; its rows are duplicates unless they
   * arrived late. The cursor (and the sweep's progress) is stored with each page.
   */
  async pollOnce(object: string, ctx: PollContext): Promise<PollResult> {
    const obj = object as NetSuiteObject;
    const cursor: NetSuiteCursor = { ...(ctx.cursor as NetSuiteCursor) };
    let storedJson = JSON.stringify(ctx.cursor ?? {});
    let records = 0;
    for (let page = 0; page < this.maxPages; page++) {
      if (ctx.signal.aborted) return { records, more: true };
      const sweep = cursor.sweep;
      const head: Key | undefined =
        cursor.lastModified !== undefined
          ? { lastModified: cursor.lastModified, id: cursor.id ?? "" }
          : undefined;
      const q = sweep
        ? netsuiteQuery(obj, { from: sweep.from, after: sweep.after, through: head })
        : netsuiteQuery(obj, { after: head });
      let result: Awaited<ReturnType<NetSuiteClient["suiteql"]>>;
      try {
        result = await this.client.suiteql(q, this.pageSize, 0);
      } catch (error) {
        if (error instanceof NetSuiteError && error.status === 429) {
          return {
            records,
            more: false,
            pausedUntil: new Date(Date.now() + (error.retryAfterMs ?? 30_000)),
            apiBudget: this.budget(),
          };
        }
        throw error;
      }
      const rows = result.items;
      const last = rows.at(-1);
      const lastKey = last
        ? { lastModified: String(last.lastmodified), id: this.key(obj, last) }
        : undefined;
      let done = false;
      if (sweep) {
        if (lastKey) cursor.sweep = { from: sweep.from, after: lastKey };
        if (!result.hasMore) {
          cursor.sweep = undefined;
          done = true;
        }
      } else {
        if (lastKey) {
          cursor.lastModified = lastKey.lastModified;
          cursor.id = lastKey.id;
        }
        if (!result.hasMore && cursor.lastModified !== undefined) {
          // Caught up: sweep the lookback window behind the cursor next.
          cursor.sweep = {
            from: formatNetSuiteTime(parseNetSuiteTime(cursor.lastModified) - this.lookbackMs),
          };
        } else if (!result.hasMore) done = true;
      }
      const lag =
        cursor.lastModified !== undefined
          ? Math.max(0, Date.now() - parseNetSuiteTime(cursor.lastModified))
          : undefined;
      const stored = Object.fromEntries(
        Object.entries(cursor).filter(([, v]) => v !== undefined),
      ) as Record<string, unknown>;
      if (rows.length > 0 || JSON.stringify(stored) !== storedJson) {
        storedJson = JSON.stringify(stored);
        const ingested = await ctx.ingest(
          rows.map((r) => this.toRecord(obj, r)),
          { connector: this.name, object, cursor: stored, lagMs: lag },
        );
        records += ingested.received;
      }
      if (done) return { records, more: false, apiBudget: this.budget() };
    }
    return { records, more: true, apiBudget: this.budget() };
  }

  private budget() {
    return { used: this.client.requests, limit: 0 };
  }

  async fetchOne(object: string, externalId: string): Promise<InboundRecord | undefined> {
    const obj = object === "payment" ? "customerpayment" : (object as NetSuiteObject);
    const id = obj === "customerpayment" ? externalId.split(":")[0]! : externalId;
    const page = await this.client.suiteql(netsuiteQuery(obj, { id }), 1000, 0);
    const row =
      page.items.find((r) => this.key(obj, r) === externalId) ??
      (obj === "customerpayment" ? undefined : page.items[0]);
    return row ? this.toRecord(obj, row, `:resync:${Date.now()}`) : undefined;
  }

  async stop(): Promise<void> {}
}
