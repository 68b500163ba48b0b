/**
 * The Salesforce sandbox: a real HTTP server speaking the REST wire formats jsforce uses.
 *
 * - OAuth 2.0 token endpoint (username-password and refresh_token grants)
 * - query / queryAll / queryMore (nextRecordsUrl, Sforce-Query-Options batchSize)
 * - Bulk API 2.0 query jobs (create, poll, CSV results paged by Sforce-Locator, abort, delete)
 * - sObject describe, retrieve, create, update, delete, updated/, deleted/
 * - upsert by external ID (PATCH /sobjects/{type}/{field}/{value}: 201 created / 200 updated,
 *   300 when the value matches several records), relationships by external ID (`X__r: {field: v}`)
 * - composite (subrequests) and sObject collections retrieve, update (PATCH /composite/sobjects)
 *   and upsert (PATCH /composite/sobjects/{type}/{field}), allOrNone honoured
 * - Sforce-Limit-Info on every response; REQUEST_LIMIT_EXCEEDED past the daily limit
 * - error bodies as [{ message, errorCode }]
 * - CometD (Bayeux, served by faye) for Change Data Capture with the replay extension
 * - fault injection: HTTP statuses, delays, expired sessions, purged delete logs, duplicate and
 *   out-of-order event deliveries, gap and overflow events, expired replay ids
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { type ChangeEventData, SandboxOrg, type SfRecord, sfDateTime } from "./org.ts";
import { changeEventName, OBJECTS, type ObjectDef } from "./schema.ts";
import { matches, type ParsedQuery, parseSoql, SalesforceError, sortRecords } from "./soql.ts";

export interface SalesforceSandboxOptions {
  port?: number;
  host?: string;
  /** OAuth username-password credentials the token endpoint accepts. */
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  /** Daily API request limit reported in Sforce-Limit-Info. */
  apiDailyLimit?: number;
  /** Records per query page before nextRecordsUrl (Salesforce: 2000; 200–2000 by header). */
  queryBatchSize?: number;
  /** How long a Bulk 2.0 query job stays InProgress before JobComplete. */
  bulkJobDelayMs?: number;
  /** Records per Bulk 2.0 results page when the client gives no maxRecords. */
  bulkPageSize?: number;
  /** CometD long-poll hold time in seconds. */
  cometdTimeoutSeconds?: number;
  org?: SandboxOrg;
}

interface Fault {
  kind: "status" | "delay";
  status?: number;
  errorCode?: string;
  message?: string;
  delayMs?: number;
  remaining: number;
  match?: RegExp;
}

interface Session {
  userId: string;
  refreshToken?: string;
}

interface QueryCursor {
  rows: Record<string, unknown>[];
  totalSize: number;
  batch: number;
}

interface BulkJob {
  id: string;
  operation: "query" | "queryAll";
  query: ParsedQuery;
  soql: string;
  state: "UploadComplete" | "InProgress" | "JobComplete" | "Aborted" | "Failed";
  createdById: string;
  createdDate: number;
  apiVersion: string;
  readyAt: number;
  rows?: Record<string, unknown>[];
  columnDelimiter: string;
  lineEnding: string;
}

/** A Bayeux message as faye hands it to extensions. */
// biome-ignore lint/suspicious/noExplicitAny: Bayeux messages are untyped JSON
type FayeMessage = any;
/** faye's server side (its bundled typings describe the client only). */
interface FayeExtension {
  incoming?(message: FayeMessage, request: FayeMessage, callback: (m: FayeMessage) => void): void;
  outgoing?(message: FayeMessage, request: FayeMessage, callback: (m: FayeMessage) => void): void;
}
interface FayeAdapter {
  addExtension(extension: FayeExtension): void;
  handle(request: IncomingMessage, response: ServerResponse): void;
  close(): void;
  _server: FayeMessage;
}
const faye = createRequire(import.meta.url)("faye") as {
  NodeAdapter: new (options: { mount: string; timeout?: number }) => FayeAdapter;
};

const VERSIONS = ["58.0", "59.0", "60.0", "61.0", "62.0", "63.0", "64.0"];

export class SalesforceSandbox {
  readonly org: SandboxOrg;
  readonly options: Required<Omit<SalesforceSandboxOptions, "org" | "port" | "host">>;
  private server?: Server;
  private bayeux?: FayeAdapter;
  private readonly sessions = new Map<string, Session>();
  private readonly cursors = new Map<string, QueryCursor>();
  private readonly jobs = new Map<string, BulkJob>();
  private readonly faults: Fault[] = [];
  private apiUsage = 0;
  private cdcDuplicates = 0;
  private cdcReorders = 0;
  private held?: ChangeEventData;
  private unsubscribeOrg?: () => void;
  /** Requests seen, newest last (method and path), for tests. */
  readonly requests: { method: string; path: string; status: number }[] = [];
  url = "";

  constructor(options: SalesforceSandboxOptions = {}) {
    this.org = options.org ?? new SandboxOrg();
    this.options = {
      clientId: options.clientId ?? "sandbox-client-id",
      clientSecret: options.clientSecret ?? "sandbox-client-secret",
      username: options.username ?? "pshub@sandbox.example",
      password: options.password ?? "sandbox-password",
      apiDailyLimit: options.apiDailyLimit ?? 1_000_000,
      queryBatchSize: options.queryBatchSize ?? 2000,
      bulkJobDelayMs: options.bulkJobDelayMs ?? 50,
      bulkPageSize: options.bulkPageSize ?? 10_000,
      cometdTimeoutSeconds: options.cometdTimeoutSeconds ?? 20,
    };
    this.listenPort = options.port ?? 0;
    this.listenHost = options.host ?? "127.0.0.1";
  }
  private readonly listenPort: number;
  private readonly listenHost: string;

  async start(): Promise<this> {
    this.bayeux = new faye.NodeAdapter({
      mount: "/cometd",
      timeout: this.options.cometdTimeoutSeconds,
    });
    this.bayeux.addExtension(this.cometdExtension());
    this.server = createServer((req, res) => {
      if (req.url?.startsWith("/cometd")) {
        this.bayeux!.handle(req, res);
        return;
      }
      this.handle(req, res).catch((err) => {
        if (!res.headersSent)
          this.send(res, 500, [{ message: String(err), errorCode: "UNKNOWN_EXCEPTION" }]);
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.listenPort, this.listenHost, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://${this.listenHost}:${port}`;
    this.unsubscribeOrg = this.org.onChange((e) => this.publish(e));
    return this;
  }

  async stop(): Promise<void> {
    this.unsubscribeOrg?.();
    this.bayeux?.close();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------
  // Fault injection and control
  // -------------------------------------------------------------------------------------------

  /** The next `times` REST requests (matching `match`, if given) answer with this status. */
  failNext(
    status: number,
    options: { times?: number; errorCode?: string; message?: string; match?: RegExp } = {},
  ): void {
    this.faults.push({
      kind: "status",
      status,
      errorCode: options.errorCode,
      message: options.message,
      remaining: options.times ?? 1,
      match: options.match,
    });
  }

  /** Drops every pending injected fault. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The next `times` REST requests wait `delayMs` before answering (client timeouts). */
  delayNext(delayMs: number, options: { times?: number; match?: RegExp } = {}): void {
    this.faults.push({
      kind: "delay",
      delayMs,
      remaining: options.times ?? 1,
      match: options.match,
    });
  }

  /** Every issued access token stops working (INVALID_SESSION_ID); refresh tokens still work. */
  expireSessions(): void {
    for (const token of [...this.sessions.keys()])
      if (!token.startsWith("rt:")) this.sessions.delete(token);
  }

  /** API requests used today, as Sforce-Limit-Info reports them. */
  get apiRequestsUsed(): number {
    return this.apiUsage;
  }

  setApiUsage(used: number): void {
    this.apiUsage = used;
  }

  /** The next `n` change events are delivered twice. */
  duplicateNextEvents(n = 1): void {
    this.cdcDuplicates += n;
  }

  /** The next event is held back and delivered after the one that follows it. */
  reorderNextEvent(): void {
    this.cdcReorders += 1;
  }

  // -------------------------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------------------------

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, {
      "Sforce-Limit-Info": `api-usage=${this.apiUsage}/${this.options.apiDailyLimit}`,
      ...(body === undefined
        ? {}
        : { "Content-Type": headers["Content-Type"] ?? "application/json;charset=UTF-8" }),
      ...headers,
    });
    res.end(text);
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const record = (status: number) => this.requests.push({ method, path: url.pathname, status });
    const body = await this.readBody(req);

    if (url.pathname === "/services/oauth2/token" && method === "POST") {
      const { status, payload } = this.token(new URLSearchParams(body));
      record(status);
      this.send(res, status, payload);
      return;
    }

    for (const f of this.faults) {
      if (f.remaining <= 0 || (f.match && !f.match.test(url.pathname + url.search))) continue;
      f.remaining -= 1;
      if (f.kind === "delay") {
        await new Promise((r) => setTimeout(r, f.delayMs));
        continue;
      }
      record(f.status!);
      this.send(res, f.status!, [
        {
          message:
            f.message ??
            (f.status === 503 ? "Server temporarily unavailable" : "Too many requests"),
          errorCode:
            f.errorCode ?? (f.status === 503 ? "SERVER_UNAVAILABLE" : "REQUEST_LIMIT_EXCEEDED"),
        },
      ]);
      return;
    }

    const auth = /^(Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? "");
    const session = auth ? this.sessions.get(auth[2]!) : undefined;
    if (!session) {
      // The identity endpoints (UserInfo, the identity URL) refuse a bad token with 403 and a
      // plain-text code, not the REST API's 401 error list.
      if (new URL(req.url ?? "/", this.url).pathname.startsWith("/services/oauth2/userinfo")) {
        record(403);
        this.send(res, 403, auth ? "Bad_OAuth_Token" : "Missing_OAuth_Token", {
          "Content-Type": "text/plain;charset=UTF-8",
        });
        return;
      }
      record(401);
      this.send(res, 401, [
        { message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" },
      ]);
      return;
    }
    this.apiUsage += 1;
    if (this.apiUsage > this.options.apiDailyLimit) {
      record(403);
      this.send(res, 403, [
        { message: "TotalRequests Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" },
      ]);
      return;
    }
    const client = /client=([^,;\s]+)/.exec(String(req.headers["sforce-call-options"] ?? ""))?.[1];
    try {
      const out = this.route(method, url, body, session, client, req.headers);
      record(out.status);
      this.send(res, out.status, out.body, out.headers);
    } catch (err) {
      if (err instanceof SalesforceError) {
        record(err.status);
        this.send(res, err.status, [{ message: err.message, errorCode: err.errorCode }]);
        return;
      }
      throw err;
    }
  }

  private token(params: URLSearchParams): { status: number; payload: unknown } {
    const o = this.options;
    const grant = params.get("grant_type");
    let session: Session | undefined;
    if (grant === "password") {
      if (
        params.get("client_id") !== o.clientId ||
        params.get("client_secret") !== o.clientSecret
      ) {
        return {
          status: 400,
          payload: { error: "invalid_client_id", error_description: "client identifier invalid" },
        };
      }
      if (params.get("username") !== o.username || params.get("password") !== o.password) {
        return {
          status: 400,
          payload: { error: "invalid_grant", error_description: "authentication failure" },
        };
      }
      session = { userId: this.org.integrationUserId };
    } else if (grant === "refresh_token") {
      const refresh = this.sessions.get(`rt:${params.get("refresh_token")}`);
      if (!refresh) {
        return {
          status: 400,
          payload: { error: "invalid_grant", error_description: "expired access/refresh token" },
        };
      }
      session = { userId: refresh.userId };
    } else {
      return {
        status: 400,
        payload: { error: "unsupported_grant_type", error_description: "grant type not supported" },
      };
    }
    const accessToken = `${this.org.orgId.slice(0, 15)}!${randomBytes(24).toString("base64url")}`;
    this.sessions.set(accessToken, session);
    return {
      status: 200,
      payload: {
        access_token: accessToken,
        instance_url: this.url,
        id: `${this.url}/id/${this.org.orgId}/${session.userId}`,
        token_type: "Bearer",
        issued_at: String(Date.now()),
        signature: randomBytes(32).toString("base64"),
      },
    };
  }

  /** An access token (and refresh token) for a user, as the token endpoint would issue. */
  issueSession(userId = this.org.integrationUserId): { accessToken: string; refreshToken: string } {
    const accessToken = `${this.org.orgId.slice(0, 15)}!${randomBytes(24).toString("base64url")}`;
    const refreshToken = `5Aep${randomBytes(24).toString("base64url")}`;
    this.sessions.set(accessToken, { userId });
    this.sessions.set(`rt:${refreshToken}`, { userId });
    return { accessToken, refreshToken };
  }

  private route(
    method: string,
    url: URL,
    rawBody: string,
    session: Session,
    client: string | undefined,
    headers: IncomingMessage["headers"],
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    const path = url.pathname.replace(/\/+$/, "");
    if (path === "/services/oauth2/userinfo") {
      return { status: 200, body: { user_id: session.userId, organization_id: this.org.orgId } };
    }
    if (path === "/services/data") {
      return {
        status: 200,
        body: VERSIONS.map((v) => ({ label: `v${v}`, url: `/services/data/v${v}`, version: v })),
      };
    }
    const m = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(path);
    if (!m) throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
    const version = m[1]!;
    const rest = m[2] ?? "";
    const body = rawBody ? (JSON.parse(rawBody) as Record<string, unknown>) : {};
    const write = { userId: session.userId, client };
    let r: RegExpExecArray | null;

    if (rest === "" && method === "GET") {
      return {
        status: 200,
        body: {
          sobjects: `/services/data/v${version}/sobjects`,
          query: `/services/data/v${version}/query`,
        },
      };
    }
    if (rest === "/limits" && method === "GET") {
      const max = this.options.apiDailyLimit;
      return {
        status: 200,
        body: { DailyApiRequests: { Max: max, Remaining: Math.max(0, max - this.apiUsage) } },
      };
    }
    r = /^\/(query|queryAll)$/.exec(rest);
    if (r && method === "GET") {
      const q = url.searchParams.get("q");
      if (!q) throw new SalesforceError(400, "MALFORMED_QUERY", "q parameter is required");
      const batch = /batchSize=(\d+)/.exec(String(headers["sforce-query-options"] ?? ""))?.[1];
      return {
        status: 200,
        body: this.query(version, q, r[1] === "queryAll", batch ? Number(batch) : undefined),
      };
    }
    r = /^\/(?:query|queryAll)\/(01g[A-Za-z0-9]+)-(\d+)$/.exec(rest);
    if (r && method === "GET") {
      return { status: 200, body: this.queryMore(version, r[1]!, Number(r[2])) };
    }
    if (rest === "/sobjects" && method === "GET") {
      return {
        status: 200,
        body: {
          encoding: "UTF-8",
          maxBatchSize: 200,
          sobjects: OBJECTS.map((o) => ({
            name: o.name,
            label: o.label,
            keyPrefix: o.keyPrefix,
            custom: o.custom,
            queryable: true,
            replicateable: true,
          })),
        },
      };
    }
    r = /^\/sobjects\/(\w+)\/describe$/.exec(rest);
    if (r && method === "GET") {
      return { status: 200, body: this.describe(version, this.org.object(r[1]!)) };
    }
    r = /^\/sobjects\/(\w+)\/(updated|deleted)$/.exec(rest);
    if (r && method === "GET") {
      const start = Date.parse(url.searchParams.get("start") ?? "");
      const end = Date.parse(url.searchParams.get("end") ?? "");
      if (Number.isNaN(start) || Number.isNaN(end)) {
        throw new SalesforceError(400, "MALFORMED_QUERY", "start and end must be valid dateTimes");
      }
      if (end - start < 60_000) {
        throw new SalesforceError(
          400,
          "INVALID_REPLICATION_DATE",
          "endDate must be more than one minute after startDate",
        );
      }
      return {
        status: 200,
        body:
          r[2] === "deleted"
            ? this.org.getDeleted(r[1]!, start, end)
            : this.org.getUpdated(r[1]!, start, end),
      };
    }
    r = /^\/sobjects\/(\w+)$/.exec(rest);
    if (r && method === "POST") {
      const rec = this.org.create(r[1]!, body, write);
      return { status: 201, body: { id: rec.Id, success: true, errors: [] } };
    }
    r = /^\/sobjects\/(\w+)\/(\w+__c|Id)\/([^/]+)$/.exec(rest);
    if (r && method === "PATCH") {
      const o = this.org.object(r[1]!);
      const out = this.upsert(o, r[2]!, decodeURIComponent(r[3]!), body, write);
      return {
        status: out.created ? 201 : 200,
        body: { id: out.id, success: true, errors: [], created: out.created },
      };
    }
    r = /^\/sobjects\/(\w+)\/(\w{15,18})$/.exec(rest);
    if (r) {
      const o = this.org.object(r[1]!);
      if (method === "GET") {
        const rec = this.org.table(o.name).get(r[2]!);
        if (!rec || rec.IsDeleted)
          throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
        const fields = url.searchParams
          .get("fields")
          ?.split(",")
          .map((f) => f.trim());
        return { status: 200, body: this.project(version, o, rec, fields) };
      }
      if (method === "PATCH") {
        this.org.update(o.name, r[2]!, body, write);
        return { status: 204 };
      }
      if (method === "DELETE") {
        this.org.delete(o.name, r[2]!, write);
        return { status: 204 };
      }
    }
    if (rest === "/composite/sobjects" && method === "PATCH") {
      return { status: 200, body: this.collection(body, null, write) };
    }
    r = /^\/composite\/sobjects\/(\w+)\/(\w+)$/.exec(rest);
    if (r && method === "PATCH") {
      return { status: 200, body: this.collection(body, { type: r[1]!, field: r[2]! }, write) };
    }
    r = /^\/composite\/sobjects\/(\w+)$/.exec(rest);
    if (r && (method === "POST" || method === "GET")) {
      const o = this.org.object(r[1]!);
      const ids =
        method === "POST"
          ? ((body.ids as string[]) ?? [])
          : (url.searchParams.get("ids") ?? "").split(",");
      const fields =
        method === "POST" ? (body.fields as string[]) : url.searchParams.get("fields")?.split(",");
      return {
        status: 200,
        body: ids.map((id) => {
          const rec = this.org.table(o.name).get(id);
          return rec && !rec.IsDeleted ? this.project(version, o, rec, fields) : null;
        }),
      };
    }
    if (rest === "/composite" && method === "POST") {
      return { status: 200, body: this.composite(version, body, session, client, headers) };
    }
    if (rest === "/jobs/query" && method === "POST") {
      return { status: 200, body: this.createJob(version, body, session) };
    }
    r = /^\/jobs\/query\/(750\w+)$/.exec(rest);
    if (r) {
      const job = this.job(r[1]!);
      if (method === "GET") return { status: 200, body: this.jobInfo(job) };
      if (method === "PATCH") {
        if (body.state === "Aborted" && job.state !== "JobComplete") job.state = "Aborted";
        return { status: 200, body: this.jobInfo(job) };
      }
      if (method === "DELETE") {
        this.jobs.delete(job.id);
        return { status: 204 };
      }
    }
    r = /^\/jobs\/query\/(750\w+)\/results$/.exec(rest);
    if (r && method === "GET") {
      return this.jobResults(version, this.job(r[1]!), url.searchParams);
    }
    throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
  }

  /** The external ID field `name` of `o`, or INVALID_FIELD (Id is allowed for a single upsert). */
  private externalIdField(o: ObjectDef, name: string): string {
    if (name === "Id") return "Id";
    const f = o.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f?.externalId)
      throw new SalesforceError(
        400,
        "INVALID_FIELD",
        `Provided external ID field does not exist or is not accessible: ${name}`,
      );
    return f.name;
  }

  /** `X__r: { Ext__c: v }` → `X__c: <id of the record whose Ext__c is v>`; `attributes` dropped. */
  private resolveReferences(o: ObjectDef, input: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      if (key === "attributes") continue;
      if (!key.endsWith("__r") || !value || typeof value !== "object") {
        out[key] = value;
        continue;
      }
      const field = o.fields.find(
        (f) => f.name.toLowerCase() === `${key.slice(0, -3)}__c`.toLowerCase(),
      );
      const target = field?.referenceTo?.[0];
      if (!field || !target)
        throw new SalesforceError(
          400,
          "INVALID_FIELD",
          `No such relationship '${key}' on ${o.name}`,
        );
      const [[extName, extValue] = []] = Object.entries(value as Record<string, unknown>).filter(
        ([k]) => k !== "attributes",
      );
      const t = this.org.object(target);
      const ext = this.externalIdField(t, String(extName));
      const found = [...this.org.table(t.name).values()].filter(
        (rec) => !rec.IsDeleted && rec[ext] === extValue,
      );
      if (found.length !== 1)
        throw new SalesforceError(
          400,
          "INVALID_FIELD",
          `Foreign key external ID: ${String(extValue)} not found for field ${ext} in entity ${t.name}`,
        );
      out[field.name] = found[0]!.Id;
    }
    return out;
  }

  /** Upsert by external ID; `dryRun` checks everything and writes nothing (allOrNone). */
  private upsert(
    o: ObjectDef,
    fieldName: string,
    value: string,
    input: Record<string, unknown>,
    write: { userId: string; client: string | undefined },
    dryRun = false,
  ): { id: string | undefined; created: boolean } {
    const ext = this.externalIdField(o, fieldName);
    const fields = this.resolveReferences(o, input);
    delete fields[ext];
    const matches =
      ext === "Id"
        ? [this.org.table(o.name).get(value)].filter((rec) => rec && !rec.IsDeleted)
        : [...this.org.table(o.name).values()].filter(
            (rec) => !rec.IsDeleted && rec[ext] === value,
          );
    if (matches.length > 1)
      throw new SalesforceError(
        300,
        "MULTIPLE_CHOICES",
        `More than one record found for external id field ${ext} with value ${value}`,
      );
    const existing = matches[0];
    if (!existing && ext === "Id")
      throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
    this.org.validate(o, fields, !existing);
    if (dryRun) return { id: existing?.Id as string | undefined, created: !existing };
    if (existing) {
      this.org.update(o.name, existing.Id as string, fields, write);
      return { id: existing.Id as string, created: false };
    }
    const rec = this.org.create(o.name, { ...fields, [ext]: value }, write);
    return { id: rec.Id as string, created: true };
  }

  /**
   * sObject Collections update (`upsertBy` null: records carry `id`) or upsert by an external ID
   * field: one SaveResult / UpsertResult per record, in order. allOrNone: every record is checked
   * first, and one failure writes nothing (the others answer ALL_OR_NONE_OPERATION_ROLLED_BACK).
   */
  private collection(
    body: Record<string, unknown>,
    upsertBy: { type: string; field: string } | null,
    write: { userId: string; client: string | undefined },
  ) {
    const records = (body.records as Record<string, unknown>[] | undefined) ?? [];
    if (!Array.isArray(records) || records.length > 200)
      throw new SalesforceError(400, "INVALID_BATCH_SIZE", "a collection holds 1 to 200 records");
    const allOrNone = body.allOrNone === true;
    const one = (rec: Record<string, unknown>, dryRun: boolean) => {
      const type = (rec.attributes as { type?: string } | undefined)?.type;
      if (!type)
        throw new SalesforceError(400, "INVALID_TYPE", "Each record needs attributes.type");
      const o = this.org.object(type);
      if (upsertBy) {
        if (o.name !== this.org.object(upsertBy.type).name)
          throw new SalesforceError(
            400,
            "INVALID_TYPE",
            `Records must be of type ${upsertBy.type}`,
          );
        if (upsertBy.field === "Id")
          throw new SalesforceError(400, "INVALID_FIELD", "Only external ids are supported");
        const ext = this.externalIdField(o, upsertBy.field);
        const value = rec[ext] ?? rec[upsertBy.field];
        if (value == null)
          throw new SalesforceError(400, "MISSING_ARGUMENT", `${ext} not specified`);
        const { [upsertBy.field]: _v, ...rest } = rec;
        return this.upsert(o, ext, String(value), rest, write, dryRun);
      }
      const { id, Id, ...rest } = rec;
      const target = String(id ?? Id ?? "");
      const existing = this.org.table(o.name).get(target);
      if (!existing || existing.IsDeleted)
        throw new SalesforceError(
          404,
          "ENTITY_IS_DELETED",
          `entity is deleted or missing: ${target}`,
        );
      const fields = this.resolveReferences(o, rest);
      this.org.validate(o, fields, false);
      if (!dryRun) this.org.update(o.name, target, fields, write);
      return { id: target, created: false };
    };
    const failure = (err: unknown) => {
      if (!(err instanceof SalesforceError)) throw err;
      return {
        success: false,
        errors: [{ statusCode: err.errorCode, message: err.message, fields: [] }],
      };
    };
    const shape = (out: { id: string | undefined; created: boolean }) =>
      upsertBy
        ? { id: out.id, success: true, errors: [], created: out.created }
        : { id: out.id, success: true, errors: [] };
    if (allOrNone) {
      const checked = records.map((rec) => {
        try {
          one(rec, true);
          return undefined;
        } catch (err) {
          return failure(err);
        }
      });
      if (checked.some((c) => c))
        return checked.map(
          (c) =>
            c ?? {
              success: false,
              errors: [
                {
                  statusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                  message:
                    "Record rolled back because not all records were valid and the request was using AllOrNone header",
                  fields: [],
                },
              ],
            },
        );
    }
    return records.map((rec) => {
      try {
        return shape(one(rec, false));
      } catch (err) {
        return failure(err);
      }
    });
  }

  private composite(
    version: string,
    body: Record<string, unknown>,
    session: Session,
    client: string | undefined,
    headers: IncomingMessage["headers"],
  ) {
    const requests =
      (body.compositeRequest as {
        method: string;
        url: string;
        referenceId: string;
        body?: unknown;
      }[]) ?? [];
    const results: Record<string, Record<string, unknown>> = {};
    const compositeResponse = requests.map((sub) => {
      const resolved = sub.url.replace(/@\{(\w+)\.(\w+)\}/g, (_, ref: string, f: string) =>
        String(results[ref]?.[f] ?? ""),
      );
      try {
        const out = this.route(
          sub.method,
          new URL(resolved, this.url),
          sub.body ? JSON.stringify(sub.body) : "",
          session,
          client,
          headers,
        );
        if (out.body && typeof out.body === "object")
          results[sub.referenceId] = out.body as Record<string, unknown>;
        return {
          body: out.body ?? null,
          httpHeaders: {},
          httpStatusCode: out.status,
          referenceId: sub.referenceId,
        };
      } catch (err) {
        if (!(err instanceof SalesforceError)) throw err;
        return {
          body: [{ message: err.message, errorCode: err.errorCode }],
          httpHeaders: {},
          httpStatusCode: err.status,
          referenceId: sub.referenceId,
        };
      }
    });
    void version;
    return { compositeResponse };
  }

  describe(version: string, o: ObjectDef) {
    return {
      name: o.name,
      label: o.label,
      keyPrefix: o.keyPrefix,
      custom: o.custom,
      queryable: true,
      replicateable: true,
      retrieveable: true,
      urls: { sobject: `/services/data/v${version}/sobjects/${o.name}` },
      fields: o.fields.map((f) => ({
        name: f.name,
        label: f.label ?? f.name,
        type: f.type,
        custom: f.name.endsWith("__c"),
        nillable: ![
          "Id",
          "IsDeleted",
          "CreatedDate",
          "SystemModstamp",
          "LastModifiedDate",
        ].includes(f.name),
        createable: !f.readOnly,
        updateable: !f.readOnly,
        externalId: f.externalId === true,
        referenceTo: f.referenceTo ?? [],
        relationshipName:
          f.type === "reference"
            ? f.name.replace(/(Id|__c)$/, (s) => (s === "__c" ? "__r" : ""))
            : null,
        picklistValues: (f.picklist ?? []).map((v) => ({
          active: true,
          defaultValue: false,
          label: v,
          value: v,
        })),
        length: f.type === "string" || f.type === "id" || f.type === "reference" ? 255 : 0,
        precision: f.type === "currency" ? 18 : 0,
        scale: f.type === "currency" ? 2 : 0,
      })),
    };
  }

  private project(version: string, o: ObjectDef, rec: SfRecord, fields?: string[]) {
    const names = fields?.length ? fields : o.fields.map((f) => f.name);
    const out: Record<string, unknown> = {
      attributes: { type: o.name, url: `/services/data/v${version}/sobjects/${o.name}/${rec.Id}` },
    };
    for (const n of names) {
      const f = o.fields.find((x) => x.name.toLowerCase() === n.toLowerCase());
      if (!f)
        throw new SalesforceError(
          400,
          "INVALID_FIELD",
          `No such column '${n}' on entity '${o.name}'.`,
        );
      out[f.name] = rec[f.name] ?? null;
    }
    return out;
  }

  private select(q: ParsedQuery, all: boolean): SfRecord[] {
    const rows = [...this.org.table(q.object.name).values()].filter(
      (rec) => (all || !rec.IsDeleted) && (!q.where || matches(q.where, rec)),
    );
    sortRecords(q, rows);
    const offset = q.offset ?? 0;
    return rows.slice(offset, q.limit !== undefined ? offset + q.limit : undefined);
  }

  private query(version: string, soql: string, all: boolean, batchHeader?: number) {
    const q = parseSoql(soql);
    const rows = this.select(q, all);
    if (q.count) return { totalSize: rows.length, done: true, records: [] };
    const projected = rows.map((rec) =>
      this.project(
        version,
        q.object,
        rec,
        q.fields.map((f) => f.name),
      ),
    );
    const batch = Math.max(
      1,
      Math.min(
        batchHeader ? Math.max(200, Math.min(2000, batchHeader)) : Infinity,
        this.options.queryBatchSize,
      ),
    );
    return this.page(version, { rows: projected, totalSize: projected.length, batch }, 0);
  }

  private page(version: string, cursor: QueryCursor, offset: number) {
    const records = cursor.rows.slice(offset, offset + cursor.batch);
    const next = offset + records.length;
    const done = next >= cursor.rows.length;
    let nextRecordsUrl: string | undefined;
    if (!done) {
      const id = `01g5g${randomBytes(6).toString("hex").toUpperCase()}`;
      this.cursors.set(id, cursor);
      nextRecordsUrl = `/services/data/v${version}/query/${id}-${next}`;
    }
    return {
      totalSize: cursor.totalSize,
      done,
      ...(nextRecordsUrl ? { nextRecordsUrl } : {}),
      records,
    };
  }

  private queryMore(version: string, id: string, offset: number) {
    const cursor = this.cursors.get(id);
    if (!cursor) {
      throw new SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    }
    this.cursors.delete(id);
    return this.page(version, cursor, offset);
  }

  // Bulk API 2.0 query jobs -------------------------------------------------------------------

  private createJob(version: string, body: Record<string, unknown>, session: Session) {
    const operation =
      body.operation === "queryAll" ? "queryAll" : body.operation === "query" ? "query" : undefined;
    if (!operation)
      throw new SalesforceError(
        400,
        "INVALIDJOB",
        "InvalidJob : operation must be query or queryAll",
      );
    if (typeof body.query !== "string")
      throw new SalesforceError(400, "INVALIDJOB", "InvalidJob : query is required");
    const q = parseSoql(body.query);
    if (q.count)
      throw new SalesforceError(
        400,
        "INVALIDJOB",
        "InvalidJob : COUNT() is not supported by Bulk API 2.0 query",
      );
    const id = `7505g${randomBytes(7).toString("hex").toUpperCase().slice(0, 13)}`;
    const job: BulkJob = {
      id,
      operation,
      query: q,
      soql: body.query,
      state: "UploadComplete",
      createdById: session.userId,
      createdDate: Date.now(),
      apiVersion: version,
      readyAt: Date.now() + this.options.bulkJobDelayMs,
      columnDelimiter: (body.columnDelimiter as string) ?? "COMMA",
      lineEnding: (body.lineEnding as string) ?? "LF",
    };
    // The job's snapshot is taken when it runs (at creation here), as a query job reads once.
    job.rows = this.select(q, operation === "queryAll").map((rec) =>
      this.project(
        version,
        q.object,
        rec,
        q.fields.map((f) => f.name),
      ),
    );
    this.jobs.set(id, job);
    return this.jobInfo(job);
  }

  private job(id: string): BulkJob {
    const job = this.jobs.get(id);
    if (!job) throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
    if (
      (job.state === "UploadComplete" || job.state === "InProgress") &&
      Date.now() >= job.readyAt
    ) {
      job.state = "JobComplete";
    } else if (job.state === "UploadComplete") {
      job.state = "InProgress";
    }
    return job;
  }

  private jobInfo(job: BulkJob) {
    return {
      id: job.id,
      operation: job.operation,
      object: job.query.object.name,
      createdById: job.createdById,
      createdDate: sfDateTime(job.createdDate),
      systemModstamp: sfDateTime(Date.now()),
      state: job.state,
      concurrencyMode: "Parallel",
      contentType: "CSV",
      apiVersion: Number(job.apiVersion),
      jobType: "V2Query",
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
      numberRecordsProcessed: job.state === "JobComplete" ? job.rows!.length : 0,
      retries: 0,
      totalProcessingTime: 0,
    };
  }

  private jobResults(version: string, job: BulkJob, params: URLSearchParams) {
    if (version !== job.apiVersion) {
      throw new SalesforceError(
        409,
        "INVALIDJOBSTATE",
        "Use the same API version to get query results that you used to create the query",
      );
    }
    if (job.state !== "JobComplete") {
      throw new SalesforceError(
        400,
        "INVALIDJOBSTATE",
        `InvalidJobState : Job ${job.id} is not in JobComplete state (${job.state})`,
      );
    }
    const locator = params.get("locator");
    const offset = locator ? Number(Buffer.from(locator, "base64url").toString("utf8")) : 0;
    if (Number.isNaN(offset)) throw new SalesforceError(400, "INVALID_LOCATOR", "invalid locator");
    const max = Number(params.get("maxRecords") ?? this.options.bulkPageSize);
    const rows = job.rows!.slice(offset, offset + max);
    const next = offset + rows.length;
    const names = job.query.fields.map((f) => f.name);
    const delim =
      job.columnDelimiter === "TAB"
        ? "\t"
        : job.columnDelimiter === "SEMICOLON"
          ? ";"
          : job.columnDelimiter === "PIPE"
            ? "|"
            : ",";
    const eol = job.lineEnding === "CRLF" ? "\r\n" : "\n";
    const cell = (v: unknown) =>
      v === null || v === undefined ? "" : `"${String(v).replace(/"/g, '""')}"`;
    const csv =
      [
        names.map(cell).join(delim),
        ...rows.map((row) => names.map((n) => cell(row[n])).join(delim)),
      ].join(eol) + eol;
    return {
      status: 200,
      body: csv,
      headers: {
        "Content-Type": "text/csv",
        "Sforce-Locator":
          next >= job.rows!.length ? "null" : Buffer.from(String(next)).toString("base64url"),
        "Sforce-NumberOfRecords": String(rows.length),
      },
    };
  }

  // CometD / Change Data Capture --------------------------------------------------------------

  private channelsFor(e: ChangeEventData): string[] {
    return [
      "/data/ChangeEvents",
      `/data/${changeEventName(e.payload.ChangeEventHeader.entityName)}`,
    ];
  }

  private validChannel(channel: string): boolean {
    if (channel === "/data/ChangeEvents") return true;
    return OBJECTS.some((o) => o.cdc && channel === `/data/${changeEventName(o.name)}`);
  }

  private publish(e: ChangeEventData): void {
    if (!this.bayeux) return;
    const deliver = (ev: ChangeEventData) => {
      for (const channel of this.channelsFor(ev)) {
        this.bayeux!._server._engine.publish({ channel, data: ev, id: `${ev.event.replayId}` });
      }
    };
    if (this.cdcReorders > 0 && !this.held) {
      this.cdcReorders -= 1;
      this.held = e;
      return;
    }
    deliver(e);
    if (this.cdcDuplicates > 0) {
      this.cdcDuplicates -= 1;
      deliver(e);
    }
    if (this.held && this.held !== e) {
      const held = this.held;
      this.held = undefined;
      deliver(held);
    }
  }

  private cometdExtension(): FayeExtension {
    const pending = new Map<string, { channel: string; from: number }[]>();
    const tokenOf = (request: IncomingMessage | undefined) =>
      /^(?:OAuth|Bearer) (.+)$/.exec(String(request?.headers?.authorization ?? ""))?.[1];
    return {
      incoming: (
        message: FayeMessage,
        request: IncomingMessage | undefined,
        callback: (m: FayeMessage) => void,
      ) => {
        const channel: string = message.channel;
        if (
          channel === "/meta/handshake" ||
          channel === "/meta/connect" ||
          channel === "/meta/subscribe"
        ) {
          const token = tokenOf(request);
          if (!token || !this.sessions.has(token)) {
            message.error =
              channel === "/meta/handshake"
                ? "403::Handshake denied"
                : "401::Authentication invalid";
            message._authFailed = true;
            return callback(message);
          }
        }
        if (channel === "/meta/subscribe") {
          const sub: string = message.subscription;
          if (!this.validChannel(sub)) {
            message.error = `400::The channel you requested to subscribe to does not exist {${sub}}`;
            return callback(message);
          }
          const raw = message.ext?.replay?.[sub];
          const from = raw === undefined || raw === null ? -1 : Number(raw);
          const latest = this.org.latestReplayId;
          if (
            from !== -1 &&
            from !== -2 &&
            (Number.isNaN(from) || from < this.org.retainedAfter || from > latest)
          ) {
            message.error = `400::The replayId {${raw}} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only new events.`;
            return callback(message);
          }
          const list = pending.get(message.clientId) ?? [];
          list.push({ channel: sub, from });
          pending.set(message.clientId, list);
        } else if (!channel.startsWith("/meta/")) {
          message.error = "403::Publish denied";
        }
        callback(message);
      },
      outgoing: (message: FayeMessage, _request: unknown, callback: (m: FayeMessage) => void) => {
        if (message.channel === "/meta/handshake" && message.successful) {
          message.ext = { ...message.ext, replay: true, "payload.format": true };
        }
        if (
          (message.channel === "/meta/handshake" || message.channel === "/meta/connect") &&
          !message.successful &&
          /Authentication invalid|Handshake denied/.test(String(message.error))
        ) {
          message.advice = { reconnect: "none", interval: 0 };
          message.ext = {
            ...message.ext,
            sfdc: { failureReason: "401::Authentication invalid" },
            replay: true,
          };
        }
        if (message.channel === "/meta/subscribe" && message.successful) {
          const list = pending.get(message.clientId) ?? [];
          const i = list.findIndex((p) => p.channel === message.subscription);
          const p = i >= 0 ? list.splice(i, 1)[0] : undefined;
          if (p && p.from !== -1) {
            const backlog = this.org.events.filter(
              (e) =>
                e.event.replayId > (p.from === -2 ? this.org.retainedAfter : p.from) &&
                this.channelsFor(e).includes(p.channel),
            );
            this.deliverTo(message.clientId, p.channel, backlog);
          }
        }
        callback(message);
      },
    };
  }

  /** Queues events for one client only (a replayed backlog), through faye's memory engine. */
  private deliverTo(clientId: string, channel: string, events: ChangeEventData[]): void {
    if (events.length === 0) return;
    const memory = this.bayeux!._server._engine._engine;
    const queue = memory._messages.get(clientId) ?? [];
    for (const e of events) queue.push({ channel, data: e, id: `${e.event.replayId}` });
    memory._messages.set(clientId, queue);
    setImmediate(() => memory.emptyQueue(clientId));
  }
}

export async function startSalesforceSandbox(
  options: SalesforceSandboxOptions = {},
): Promise<SalesforceSandbox> {
  return new SalesforceSandbox(options).start();
}

export { SandboxOrg };
