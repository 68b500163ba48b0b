/**
 * The NetSuite sandbox: an in-memory account behind NetSuite's REST wire format.
 *
 * - `POST /services/rest/query/v1/suiteql?limit=&offset=` with `{ "q": "…" }` (and `Prefer:
 *   transient`): SuiteQL over customer, currency, transaction (CustInvc, CustPymt) and
 *   nexttransactionlinelink (./suiteql.ts); answers `{ links, count, hasMore, items, offset,
 *   totalResults }`, items as strings with null fields omitted; limit 1–1000, offset a multiple of
 *   limit, at most 100,000 results, as documented.
 * - `GET|PATCH /services/rest/record/v1/{customer|invoice}/{id}` and `PUT …/eid:{externalId}`
 *   (upsert by external id, for write-back).
 * - `POST /services/rest/auth/oauth2/v1/token`: OAuth 2.0 client credentials (M2M) with a JWT
 *   client assertion (PS256/RS256/ES256) verified against the registered certificate's public key.
 * - Errors as NetSuite sends them: `{ type, title, status, "o:errorDetails": [{ detail,
 *   "o:errorCode" }] }` (INVALID_LOGIN 401, INVALID_PARAMETER 400, NONEXISTENT_ID 404,
 *   CONCURRENCY_LIMIT_EXCEEDED 429, 503); faults on request: 429, 503, timeouts.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { importSPKI, type JWTVerifyGetKey, jwtVerify } from "jose";
import { type Row, runSuiteQL, SuiteQLError, type TableSource, type Value } from "./suiteql.ts";

export type Fault = { status: 429 | 503 } | { timeoutMs: number };

interface OAuthClient {
  clientId: string;
  certificateId: string;
  publicKeyPem: string;
  algorithm: string;
}

const TABLE_FIELDS: Record<string, string[]> = {
  currency: ["id", "symbol", "name"],
  customer: [
    "id",
    "entityid",
    "companyname",
    "externalid",
    "email",
    "isinactive",
    "currency",
    "datecreated",
    "lastmodifieddate",
  ],
  transaction: [
    "id",
    "type",
    "tranid",
    "externalid",
    "entity",
    "status",
    "trandate",
    "duedate",
    "foreigntotal",
    "taxtotal",
    "currency",
    "voided",
    "memo",
    "createddate",
    "lastmodifieddate",
  ],
  nexttransactionlinelink: [
    "previousdoc",
    "previousline",
    "nextdoc",
    "nextline",
    "linktype",
    "foreignamount",
  ],
};

const INVOICE_STATUS: Record<string, string> = { A: "Open", B: "Paid In Full", V: "Voided" };

/** Second precision, as NetSuite's lastmodifieddate. */
const nowSecond = (at = Date.now()) => new Date(Math.floor(at / 1000) * 1000);

export interface SandboxInvoice {
  externalid?: string | null;
  entity: string;
  tranid?: string;
  trandate?: string;
  duedate?: string;
  total: string;
  tax: string;
  currency?: string;
  status?: "A" | "B";
  lastModified?: Date;
}

export class NetSuiteSandbox implements TableSource {
  readonly accessTokens = new Set<string>();
  private readonly clients: OAuthClient[] = [];
  private readonly tables: Record<string, Row[]> = {
    currency: [
      { id: "1", symbol: "USD", name: "US Dollar" },
      { id: "2", symbol: "EUR", name: "Euro" },
      { id: "3", symbol: "GBP", name: "British pound" },
    ],
    customer: [],
    transaction: [],
    nexttransactionlinelink: [],
  };
  private nextId = 100;
  private faults: Fault[] = [];
  private server?: Server;
  private baseUrl = "";
  /** Requests served (for tests: API budget, paging). */
  readonly requests: { path: string; q?: string; limit?: number; offset?: number }[] = [];

  constructor(options: { accessToken?: string } = {}) {
    this.accessTokens.add(options.accessToken ?? "sandbox-netsuite-token");
  }

  rows(table: string): Row[] | undefined {
    return this.tables[table];
  }
  fields(table: string): string[] {
    return TABLE_FIELDS[table] ?? [];
  }
  display(table: string, field: string, value: Value): Value {
    if (table === "transaction" && field === "status")
      return INVOICE_STATUS[String(value)] ?? value;
    if (field === "currency")
      return this.tables.currency!.find((c) => c.id === value)?.name ?? value;
    return value;
  }

  /** Registers an OAuth 2.0 client-credentials integration (certificate mapping). */
  registerClient(client: OAuthClient): void {
    this.clients.push(client);
  }

  /** The next `n` requests fail with this fault (429 / 503 / a timeout). */
  inject(fault: Fault, n = 1): void {
    for (let i = 0; i < n; i++) this.faults.push(fault);
  }

  currencyId(symbol: string): string {
    const c = this.tables.currency!.find((r) => r.symbol === symbol);
    if (!c) throw new Error(`unknown currency ${symbol}`);
    return String(c.id);
  }

  addCustomer(c: {
    companyname: string;
    externalid?: string | null;
    currency?: string;
    email?: string;
    lastModified?: Date;
  }): string {
    const id = String(this.nextId++);
    const at = c.lastModified ?? nowSecond();
    this.tables.customer!.push({
      id,
      entityid: `CUST${id}`,
      companyname: c.companyname,
      externalid: c.externalid ?? null,
      email: c.email ?? null,
      isinactive: false,
      currency: this.currencyId(c.currency ?? "USD"),
      datecreated: at,
      lastmodifieddate: at,
    });
    return id;
  }

  updateCustomer(
    id: string,
    set: Partial<{ companyname: string; email: string }>,
    lastModified = nowSecond(),
  ): void {
    const row = this.tables.customer!.find((r) => r.id === id);
    if (!row) throw new Error(`no customer ${id}`);
    Object.assign(row, set, { lastmodifieddate: lastModified });
  }

  addInvoice(inv: SandboxInvoice): string {
    const id = String(this.nextId++);
    const at = inv.lastModified ?? nowSecond();
    this.tables.transaction!.push({
      id,
      type: "CustInvc",
      tranid: inv.tranid ?? `INV${id}`,
      externalid: inv.externalid ?? null,
      entity: inv.entity,
      status: inv.status ?? "A",
      trandate: new Date(`${inv.trandate ?? at.toISOString().slice(0, 10)}T00:00:00Z`),
      duedate: inv.duedate ? new Date(`${inv.duedate}T00:00:00Z`) : null,
      foreigntotal: inv.total,
      taxtotal: inv.tax,
      currency: this.currencyId(inv.currency ?? "USD"),
      voided: false,
      createddate: at,
      lastmodifieddate: at,
    });
    return id;
  }

  invoice(id: string): Row | undefined {
    return this.tables.transaction!.find((r) => r.id === id && r.type === "CustInvc");
  }

  /** A customer payment applied to one invoice; the invoice becomes Paid In Full when covered. */
  addPayment(p: {
    invoiceId: string;
    amount: string;
    paidOn?: string;
    lastModified?: Date;
  }): string {
    const inv = this.invoice(p.invoiceId);
    if (!inv) throw new Error(`no invoice ${p.invoiceId}`);
    const id = String(this.nextId++);
    const at = p.lastModified ?? nowSecond();
    this.tables.transaction!.push({
      id,
      type: "CustPymt",
      tranid: `PYMT${id}`,
      externalid: null,
      entity: inv.entity ?? null,
      status: "C",
      trandate: new Date(`${p.paidOn ?? at.toISOString().slice(0, 10)}T00:00:00Z`),
      duedate: null,
      foreigntotal: p.amount,
      taxtotal: null,
      currency: inv.currency ?? null,
      voided: false,
      createddate: at,
      lastmodifieddate: at,
    });
    this.tables.nexttransactionlinelink!.push({
      previousdoc: p.invoiceId,
      previousline: "0",
      nextdoc: id,
      nextline: "1",
      linktype: "Payment",
      foreignamount: p.amount,
    });
    const paid = this.tables
      .nexttransactionlinelink!.filter(
        (l) => l.previousdoc === p.invoiceId && l.linktype === "Payment",
      )
      .reduce((sum, l) => sum + Math.round(Number(l.foreignamount) * 100), 0);
    if (paid >= Math.round(Number(inv.foreigntotal) * 100)) inv.status = "B";
    inv.lastmodifieddate = at;
    return id;
  }

  /** Serves the REST API on `port` (0 = any); returns the base URL (NETSUITE_BASE_URL). */
  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, () => resolve());
    });
    this.baseUrl = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private error(
    res: ServerResponse,
    status: number,
    code: string,
    detail: string,
    headers: Record<string, string> = {},
  ) {
    const titles: Record<number, string> = {
      400: "Bad Request",
      401: "Unauthorized",
      404: "Not Found",
      405: "Method Not Allowed",
      429: "Too Many Requests",
      503: "Service Unavailable",
    };
    res.writeHead(status, {
      "content-type": "application/vnd.oracle.resource+json; type=error",
      ...headers,
    });
    res.end(
      JSON.stringify({
        type: `https://www.rfc-editor.org/rfc/rfc9110.html#section-15.${status >= 500 ? "6" : "5"}.${(status % 100) + 1}`,
        title: titles[status] ?? "Error",
        status,
        "o:errorDetails": [{ detail, "o:errorCode": code }],
      }),
    );
  }

  private json(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, {
      "content-type": "application/vnd.oracle.resource+json; type=collection",
    });
    res.end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.baseUrl || "http://localhost");
    const path = url.pathname;
    try {
      const fault = this.faults.shift();
      if (fault && "timeoutMs" in fault) {
        await new Promise((r) => setTimeout(r, fault.timeoutMs));
        res.destroy();
        return;
      }
      if (fault) {
        return this.error(
          res,
          fault.status,
          fault.status === 429 ? "CONCURRENCY_LIMIT_EXCEEDED" : "SERVICE_UNAVAILABLE",
          fault.status === 429
            ? "Request blocked by the concurrency limit of the account."
            : "The service is temporarily unavailable.",
          fault.status === 429 ? { "retry-after": "1" } : {},
        );
      }
      if (path === "/services/rest/auth/oauth2/v1/token" && req.method === "POST")
        return void (await this.token(req, res));
      const auth = req.headers.authorization ?? "";
      if (!auth.startsWith("Bearer ") || !this.accessTokens.has(auth.slice(7))) {
        return this.error(
          res,
          401,
          "INVALID_LOGIN",
          "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
        );
      }
      if (path === "/services/rest/query/v1/suiteql") {
        if (req.method !== "POST")
          return this.error(res, 405, "INVALID_METHOD", "Use POST for SuiteQL queries.");
        return await this.suiteql(req, res, url);
      }
      const record = /^\/services\/rest\/record\/v1\/(customer|invoice)\/([^/]+)$/.exec(path);
      if (record)
        return await this.record(
          req,
          res,
          record[1] as "customer" | "invoice",
          decodeURIComponent(record[2]!),
        );
      return this.error(res, 404, "NONEXISTENT_ID", `The resource ${path} does not exist.`);
    } catch (error) {
      this.error(res, 400, "INVALID_PARAMETER", (error as Error).message);
    }
  }

  private async suiteql(req: IncomingMessage, res: ServerResponse, url: URL) {
    const limit = Number(url.searchParams.get("limit") ?? 1000);
    const offset = Number(url.searchParams.get("offset") ?? 0);
    let q: unknown;
    try {
      q = (JSON.parse(await this.body(req)) as { q?: unknown }).q;
    } catch {
      return this.error(res, 400, "INVALID_CONTENT", "The request body is not valid JSON.");
    }
    this.requests.push({ path: url.pathname, q: String(q), limit, offset });
    if (typeof q !== "string" || q.trim() === "")
      return this.error(res, 400, "INVALID_PARAMETER", "The query parameter q is required.");
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return this.error(
        res,
        400,
        "INVALID_PARAMETER",
        `Invalid value for the limit parameter: ${limit}. Provide a value between 1 and 1000.`,
      );
    }
    if (!Number.isInteger(offset) || offset < 0 || offset % limit !== 0) {
      return this.error(
        res,
        400,
        "INVALID_PARAMETER",
        `Invalid value for the offset parameter: ${offset}. The offset must be a multiple of the limit.`,
      );
    }
    let rows: Record<string, string>[];
    try {
      rows = runSuiteQL(q, this);
    } catch (error) {
      if (error instanceof SuiteQLError) {
        return this.error(
          res,
          400,
          "INVALID_PARAMETER",
          `Invalid search query. Detailed unprocessed description follows. Search error occurred: ${error.message}`,
        );
      }
      throw error;
    }
    const total = Math.min(rows.length, 100_000);
    const page = rows.slice(offset, Math.min(offset + limit, total));
    const self = `${this.baseUrl}${url.pathname}`;
    const links = [
      ...(offset > 0
        ? [
            {
              rel: "previous",
              href: `${self}?limit=${limit}&offset=${Math.max(0, offset - limit)}`,
            },
          ]
        : []),
      { rel: "first", href: `${self}?limit=${limit}&offset=0` },
      ...(offset + limit < total
        ? [{ rel: "next", href: `${self}?limit=${limit}&offset=${offset + limit}` }]
        : []),
      {
        rel: "last",
        href: `${self}?limit=${limit}&offset=${Math.max(0, Math.floor((total - 1) / limit) * limit)}`,
      },
      { rel: "self", href: `${self}?limit=${limit}&offset=${offset}` },
    ];
    this.json(res, 200, {
      links,
      count: page.length,
      hasMore: offset + limit < total,
      items: page.map((r) => ({ links: [], ...r })),
      offset,
      totalResults: total,
    });
  }

  private async record(
    req: IncomingMessage,
    res: ServerResponse,
    type: "customer" | "invoice",
    key: string,
  ) {
    const table = type === "customer" ? this.tables.customer! : this.tables.transaction!;
    const find = (k: string) =>
      table.find(
        (r) =>
          (type === "invoice" ? r.type === "CustInvc" : true) &&
          (k.startsWith("eid:") ? r.externalid === k.slice(4) : r.id === k),
      );
    const row = find(key);
    if (req.method === "GET") {
      if (!row)
        return this.error(
          res,
          404,
          "NONEXISTENT_ID",
          `The record instance does not exist. Provide a valid record instance ID.`,
        );
      const out: Record<string, unknown> = {
        links: [{ rel: "self", href: `${this.baseUrl}/services/rest/record/v1/${type}/${row.id}` }],
      };
      for (const [k, v] of Object.entries(row))
        if (v !== null) out[k] = v instanceof Date ? v.toISOString() : v;
      if (type === "invoice") {
        out.total = Number(row.foreigntotal);
        out.taxTotal = Number(row.taxtotal);
        out.tranId = row.tranid;
        out.externalId = row.externalid;
      } else {
        out.companyName = row.companyname;
        out.externalId = row.externalid;
      }
      return this.json(res, 200, out);
    }
    if (req.method === "PUT" || req.method === "PATCH" || req.method === "POST") {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse((await this.body(req)) || "{}");
      } catch {
        return this.error(res, 400, "INVALID_CONTENT", "The request body is not valid JSON.");
      }
      if (!row && req.method === "PATCH")
        return this.error(res, 404, "NONEXISTENT_ID", "The record instance does not exist.");
      let id: string;
      if (row) {
        if (type === "customer" && typeof body.companyName === "string")
          row.companyname = body.companyName;
        row.lastmodifieddate = nowSecond();
        id = String(row.id);
      } else if (type === "customer") {
        id = this.addCustomer({
          companyname: String(body.companyName ?? "New customer"),
          externalid: key.startsWith("eid:") ? key.slice(4) : null,
        });
      } else {
        const entity = (body.entity as { id?: string } | undefined)?.id;
        if (!entity)
          return this.error(res, 400, "INVALID_CONTENT", "Please enter value(s) for: Customer", {});
        id = this.addInvoice({
          entity,
          externalid: key.startsWith("eid:") ? key.slice(4) : null,
          total: String(body.total ?? "0"),
          tax: String(body.taxTotal ?? "0"),
        });
      }
      res.writeHead(204, { location: `${this.baseUrl}/services/rest/record/v1/${type}/${id}` });
      res.end();
      return;
    }
    return this.error(res, 405, "INVALID_METHOD", `${req.method} is not supported on records.`);
  }

  private async token(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await this.body(req));
    if (
      form.get("grant_type") !== "client_credentials" ||
      form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ) {
      res.writeHead(400, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: "unsupported_grant_type" }));
    }
    const assertion = form.get("client_assertion") ?? "";
    const getKey: JWTVerifyGetKey = async (header) => {
      const client = this.clients.find((c) => c.certificateId === header.kid);
      if (!client) throw new Error("unknown certificate");
      return importSPKI(client.publicKeyPem, header.alg ?? client.algorithm);
    };
    try {
      const { payload } = await jwtVerify(assertion, getKey, {
        audience: `${this.baseUrl}/services/rest/auth/oauth2/v1/token`,
      });
      if (!this.clients.some((c) => c.clientId === payload.iss)) throw new Error("unknown client");
      if (
        typeof payload.exp !== "number" ||
        typeof payload.iat !== "number" ||
        payload.exp - payload.iat > 3600
      )
        throw new Error("bad lifetime");
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: "invalid_client" }));
    }
    const token = `ns-${randomUUID()}`;
    this.accessTokens.add(token);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ access_token: token, expires_in: "3600", token_type: "bearer" }));
  }
}
