/**
 * The NetSuite (ERP) connector: SuiteQL polling of customers, invoices and customer payments.
 *
 * Each object's query orders by a unique key (lastmodifieddate, id[, applied invoice]) and pages
 * with limit/offset while `hasMore`. The cursor is the newest (lastmodified, id) ingested; the next
 * poll starts `lookbackSeconds` before it, so a row committed late with an older lastmodifieddate
 * (commit lag) is still read; rows read twice are duplicates by their dedupe key
 * (`object:id:lastmodified`) and are not recorded again. A cursor is stored only in the
 * transaction of the page it covers. 429 pauses the object (Retry-After); 5xx, timeouts and
 * network errors are thrown for the engine's backoff.
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

/** The SuiteQL of each object; `since` is a 'YYYY-MM-DD HH24:MI:SS' lower bound, `id` one record. */
function netsuiteQuery(object: NetSuiteObject, filter: { since?: string; id?: string }): string {
  const modified = (alias: string) =>
    [
      filter.since ? `${alias}.lastmodifieddate >= TO_TIMESTAMP('${filter.since}', ${TS})` : "",
      filter.id ? `${alias}.id = ${Number(filter.id)}` : "",
    ].filter(Boolean);
  switch (object) {
    case "customer": {
      const where = modified("c");
      return `SELECT c.id, c.entityid, c.companyname, c.externalid, c.email, c.isinactive, cur.symbol AS currency, TO_CHAR(c.lastmodifieddate, ${TS}) AS lastmodified FROM customer c LEFT JOIN currency cur ON cur.id = c.currency${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY c.lastmodifieddate, c.id`;
    }
    case "invoice":
      return `SELECT t.id, t.tranid, t.externalid, t.entity, t.status, t.voided, t.foreigntotal, t.taxtotal, cur.symbol AS currency, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(t.duedate, 'YYYY-MM-DD') AS duedate, TO_CHAR(t.lastmodifieddate, ${TS}) AS lastmodified FROM transaction t LEFT JOIN currency cur ON cur.id = t.currency WHERE ${["t.type = 'CustInvc'", ...modified("t")].join(" AND ")} ORDER BY t.lastmodifieddate, t.id`;
    case "customerpayment":
      return `SELECT p.id, p.tranid, l.previousdoc AS invoice, l.foreignamount AS amount, cur.symbol AS currency, TO_CHAR(p.trandate, 'YYYY-MM-DD') AS trandate, TO_CHAR(p.lastmodifieddate, ${TS}) AS lastmodified FROM transaction p JOIN nexttransactionlinelink l ON l.nextdoc = p.id LEFT JOIN currency cur ON cur.id = p.currency WHERE ${["p.type = 'CustPymt'", "l.linktype = 'Payment'", ...modified("p")].join(" AND ")} ORDER BY p.lastmodifieddate, p.id, l.previousdoc`;
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

  async pollOnce(object: string, ctx: PollContext): Promise<PollResult> {
    const obj = object as NetSuiteObject;
    const cursor = ctx.cursor as NetSuiteCursor;
    const since = cursor.lastModified
      ? formatNetSuiteTime(parseNetSuiteTime(cursor.lastModified) - this.lookbackMs)
      : undefined;
    const q = netsuiteQuery(obj, { since });
    let newest = cursor;
    let records = 0;
    for (let page = 0, offset = 0; page < this.maxPages; page++, offset += this.pageSize) {
      if (ctx.signal.aborted) return { records, more: true };
      let result: Awaited<ReturnType<NetSuiteClient["suiteql"]>>;
      try {
        result = await this.client.suiteql(q, this.pageSize, offset);
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
      if (rows.length > 0) {
        for (const row of rows) {
          const candidate = { lastModified: String(row.lastmodified), id: this.key(obj, row) };
          if (
            !newest.lastModified ||
            parseNetSuiteTime(candidate.lastModified) > parseNetSuiteTime(newest.lastModified) ||
            (candidate.lastModified === newest.lastModified &&
              compareIds(candidate.id, newest.id ?? "") > 0)
          ) {
            newest = candidate;
          }
        }
        const lag = newest.lastModified
          ? Math.max(0, Date.now() - parseNetSuiteTime(newest.lastModified))
          : undefined;
        const ingested = await ctx.ingest(
          rows.map((r) => this.toRecord(obj, r)),
          { connector: this.name, object, cursor: { ...newest }, lagMs: lag },
        );
        records += ingested.received;
      }
      if (!result.hasMore) return { records, more: false, apiBudget: this.budget() };
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

function compareIds(a: string, b: string): number {
  const na = Number(a.split(":")[0]);
  const nb = Number(b.split(":")[0]);
  if (na !== nb && !Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
