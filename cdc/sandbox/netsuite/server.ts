/**
 * The NetSuite sandbox: an in-memory account behind NetSuite's REST wire format.
 *
 * - `POST /services/rest/query/v1/suiteql?limit=&offset=` with `{ "q": "…" }` (and `Prefer:
 *   transient`): SuiteQL over customer, currency, currencyrate (exchange rates against USD, the
 *   account's base currency), transaction (CustInvc, CustPymt) and nexttransactionlinelink
 *   (./suiteql.ts); answers `{ links, count, hasMore, items, offset,
 *   totalResults }`, items as strings with null fields omitted; limit 1–1000, offset a multiple of
 *   limit, at most 100,000 results, as documented.
 * - `GET|PATCH /services/rest/record/v1/{customer|invoice}/{id}` and `PUT …/eid:{externalId}`
 *   (upsert by external id, for write-back).
 * - `POST /services/rest/auth/oauth2/v1/token`: OAuth 2.0 client credentials (M2M) with a JWT
 *   client assertion (PS256/384/512, ES256/384/512 — RS256 is refused, as NetSuite documents)
 *   verified against the public key of the certificate its kid names.
 * - Errors as NetSuite sends them: `{ type, title, status, "o:errorDetails": [{ detail,
 *   "o:errorCode" }] }` (INVALID_LOGIN 401, INVALID_PARAMETER 400, NONEXISTENT_ID 404,
 *   CONCURRENCY_LIMIT_EXCEEDED 429, 503); faults on request: 429, 503, timeouts.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { importSPKI, type JWTVerifyGetKey, jwtVerify } from "jose";
import { type Row, runSuiteQL, SuiteQLError, type TableSource, type Value } from "./suiteql.ts";

/**
 * 429 / 503 answers, a timeout before anything is done, or `afterCommitMs`: the request is carried
 * out and then the connection hangs up without an answer (the caller cannot tell it happened).
 * `paths` limits a fault to requests whose path contains one of the strings.
 */
export type Fault = (
  | { status: 429 | 503; retryAfterS?: number }
  | { timeoutMs: number }
  | { afterCommitMs: number }
) & {
  paths?: string[];
};

/** One invoice line as the record service's item sublist holds it. */
export interface SandboxInvoiceLine {
  item?: string;
  description?: string;
  quantity: string;
  rate: string;
  amount: string;
}

interface OAuthClient {
  clientId: string;
  certificateId: string;
  publicKeyPem: string;
  algorithm: string;
}

const TABLE_FIELDS: Record<string, string[]> = {
  currency: ["id", "symbol", "name"],
  // Lists > Accounting > Currency Exchange Rates: 1 transactioncurrency = exchangerate basecurrency.
  currencyrate: ["id", "basecurrency", "transactioncurrency", "exchangerate", "effectivedate"],
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

function toCents(v: string): bigint {
  const neg = v.startsWith("-");
  const [i, f = ""] = v.replace(/^-/, "").split(".");
  const c = BigInt(i || "0") * 100n + BigInt(`${f}00`.slice(0, 2));
  return neg ? -c : c;
}
function fromCents(c: bigint): string {
  const a = c < 0n ? -c : c;
  return `${c < 0n ? "-" : ""}${a / 100n}.${String(a % 100n).padStart(2, "0")}`;
}
/** cents × rate (a decimal string, up to 4 places), rounded half to even. */
function roundHalfEven(cents: bigint, rate: string): bigint {
  const [i, f = ""] = rate.split(".");
  const scaled = BigInt(i || "0") * 10_000n + BigInt(`${f}0000`.slice(0, 4));
  const product = cents * scaled;
  const q = product / 10_000n;
  const r = product % 10_000n;
  if (r * 2n > 10_000n || (r * 2n === 10_000n && q % 2n === 1n)) return q + 1n;
  return q;
}

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
    // Month-start rates against the base currency (USD), as an account's rate table holds them.
    currencyrate: [
      {
        id: "1",
        basecurrency: "1",
        transactioncurrency: "2",
        exchangerate: "1.0742",
        effectivedate: new Date("2026-10-01T00:00:00Z"),
      },
      {
        id: "2",
        basecurrency: "1",
        transactioncurrency: "3",
        exchangerate: "1.2915",
        effectivedate: new Date("2026-10-01T00:00:00Z"),
      },
      {
        id: "3",
        basecurrency: "1",
        transactioncurrency: "2",
        exchangerate: "1.0823",
        effectivedate: new Date("2026-11-01T00:00:00Z"),
      },
      {
        id: "4",
        basecurrency: "1",
        transactioncurrency: "3",
        exchangerate: "1.2671",
        effectivedate: new Date("2026-11-01T00:00:00Z"),
      },
    ],
    customer: [],
    transaction: [],
    nexttransactionlinelink: [],
  };
  private nextId = 900_000;
  private faults: Fault[] = [];
  private server?: Server;
  private baseUrl = "";
  /** ERP tax rate applied to created invoices (e.g. "0.1000"); unset: the taxTotal sent is kept. */
  taxRate?: string;
  /** Lines of created invoices, by internal id. */
  readonly invoiceLines = new Map<string, SandboxInvoiceLine[]>();
  /** Records created by the record service (not by addCustomer/addInvoice), per type. */
  readonly created: Record<"customer" | "invoice", number> = { customer: 0, invoice: 0 };
  /** Added to every answer (tests: slow answers). */
  latencyMs = 0;
  /** Every fault served (tests: the breaker stopped the hammering). */
  faultsServed = 0;
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
  /** The claims of every client assertion that verified (tests: scope, lifetime). */
  readonly assertions: Record<string, unknown>[] = [];

  registerClient(client: OAuthClient): void {
    this.clients.push(client);
  }

  /** The next `n` requests fail with this fault (429 / 503 / a timeout). */
  inject(fault: Fault, n = 1): void {
    for (let i = 0; i < n; i++) this.faults.push(fault);
  }

  /** Every request fails with this fault until `down(undefined)`; `rate` (0–1) of requests only. */
  private standing?: { fault: Fault; rate: number };
  down(fault: Fault | undefined, rate = 1): void {
    this.standing = fault ? { fault, rate } : undefined;
  }

  private takeFault(path: string): Fault | undefined {
    const matches = (f: Fault) => !f.paths || f.paths.some((p) => path.includes(p));
    const i = this.faults.findIndex(matches);
    if (i >= 0) return this.faults.splice(i, 1)[0];
    if (this.standing && matches(this.standing.fault) && Math.random() < this.standing.rate)
      return this.standing.fault;
    return undefined;
  }

  currencyId(symbol: string): string {
    const c = this.tables.currency!.find((r) => r.symbol === symbol);
    if (!c) throw new Error(`unknown currency ${symbol}`);
    return String(c.id);
  }

  /** Adds an exchange rate (1 `currency` = `rate` `base`, from `effectiveDate`); returns its id. */
  addCurrencyRate(r: {
    currency: string;
    rate: string;
    effectiveDate: string;
    base?: string;
  }): string {
    const id = String(this.tables.currencyrate!.length + 1);
    this.tables.currencyrate!.push({
      id,
      basecurrency: this.currencyId(r.base ?? "USD"),
      transactioncurrency: this.currencyId(r.currency),
      exchangerate: r.rate,
      effectivedate: new Date(`${r.effectiveDate}T00:00:00Z`),
    });
    return id;
  }

  addCustomer(c: {
    id?: string;
    companyname: string;
    externalid?: string | null;
    currency?: string;
    email?: string;
    lastModified?: Date;
  }): string {
    const id = c.id ?? String(this.nextId++);
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
      if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
      const fault = path.endsWith("/oauth2/v1/token") ? undefined : this.takeFault(path);
      if (fault) this.faultsServed++;
      if (fault && "timeoutMs" in fault) {
        await new Promise((r) => setTimeout(r, fault.timeoutMs));
        res.destroy();
        return;
      }
      if (fault && "afterCommitMs" in fault) {
        // Do the work, then lose the answer.
        const swallow = Object.create(res) as ServerResponse;
        swallow.writeHead = (() => swallow) as never;
        swallow.end = (() => swallow) as never;
        await this.route(req, swallow, url);
        await new Promise((r) => setTimeout(r, fault.afterCommitMs));
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
          fault.status === 429 ? { "retry-after": String(fault.retryAfterS ?? 1) } : {},
        );
      }
      return await this.route(req, res, url);
    } catch (error) {
      this.error(res, 400, "INVALID_PARAMETER", (error as Error).message);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    try {
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
    this.requests.push({ path: `${req.method} /record/v1/${type}/${key}` });
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
        out.subtotal = Number(
          fromCents(toCents(String(row.foreigntotal)) - toCents(String(row.taxtotal ?? "0"))),
        );
        out.tranId = row.tranid;
        out.externalId = row.externalid;
        out.entity = { id: row.entity };
        if (row.terms) out.terms = { id: row.terms };
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
      if (req.method === "PUT" && !key.startsWith("eid:"))
        return this.error(
          res,
          400,
          "INVALID_PARAMETER",
          "Upsert (PUT) addresses a record by external ID: use eid:<externalId>.",
        );
      let id: string;
      if (type === "customer") {
        if (typeof body.email === "string" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(body.email))
          return this.error(
            res,
            400,
            "INVALID_FLD_VALUE",
            `Error while accessing a resource. You have entered an Invalid Field Value ${body.email} for the following field: email`,
          );
        if (!row && (typeof body.companyName !== "string" || body.companyName.trim() === ""))
          return this.error(res, 400, "USER_ERROR", "Please enter value(s) for: Company Name");
        if (row) {
          if (typeof body.companyName === "string") row.companyname = body.companyName;
          if (typeof body.email === "string") row.email = body.email;
          row.lastmodifieddate = nowSecond();
          id = String(row.id);
        } else {
          const currency = (body.currency as { refName?: string } | undefined)?.refName;
          id = this.addCustomer({
            companyname: String(body.companyName),
            externalid: key.startsWith("eid:") ? key.slice(4) : null,
            email: typeof body.email === "string" ? body.email : undefined,
            currency:
              currency && this.tables.currency!.some((c) => c.symbol === currency)
                ? currency
                : "USD",
          });
          this.created.customer++;
        }
      } else {
        const entity = (body.entity as { id?: string } | undefined)?.id;
        if (!row && !entity)
          return this.error(res, 400, "USER_ERROR", "Please enter value(s) for: Customer");
        if (entity && !this.tables.customer!.some((c) => c.id === entity))
          return this.error(
            res,
            400,
            "INVALID_KEY_OR_REF",
            `Invalid entity reference key ${entity}.`,
          );
        const items = ((body.item as { items?: unknown[] } | undefined)?.items ?? []) as Record<
          string,
          unknown
        >[];
        if (!row && items.length === 0)
          return this.error(
            res,
            400,
            "USER_ERROR",
            "You must enter at least one line item for this transaction.",
          );
        if (row) {
          // An upsert of an existing invoice: only header fields change (the lines are posted).
          if (typeof body.memo === "string") row.memo = body.memo;
          row.lastmodifieddate = nowSecond();
          id = String(row.id);
        } else {
          const lines: SandboxInvoiceLine[] = [];
          for (const [i, it] of items.entries()) {
            const quantity = String(it.quantity ?? "");
            const rate = String(it.rate ?? "");
            const amount = String(it.amount ?? "");
            if (![quantity, rate, amount].every((v) => /^-?\d+(\.\d+)?$/.test(v)))
              return this.error(
                res,
                400,
                "INVALID_FLD_VALUE",
                `Invalid value on item line ${i + 1}: quantity, rate and amount must be numbers.`,
              );
            lines.push({
              item: (it.item as { id?: string } | undefined)?.id,
              description: typeof it.description === "string" ? it.description : undefined,
              quantity,
              rate,
              amount,
            });
          }
          const subtotal = lines.reduce((sum, l) => sum + toCents(l.amount), 0n);
          const tax =
            this.taxRate !== undefined
              ? roundHalfEven(subtotal, this.taxRate)
              : toCents(String(body.taxTotal ?? "0"));
          id = this.addInvoice({
            entity: entity!,
            externalid: key.slice(4),
            trandate: typeof body.tranDate === "string" ? body.tranDate : undefined,
            duedate: typeof body.dueDate === "string" ? body.dueDate : undefined,
            total: fromCents(subtotal + tax),
            tax: fromCents(tax),
            currency: (body.currency as { refName?: string } | undefined)?.refName,
          });
          const inv = this.invoice(id)!;
          inv.tranid = `INV${String(id).padStart(6, "0")}`;
          inv.terms = (body.terms as { id?: string } | undefined)?.id ?? null;
          inv.memo = typeof body.memo === "string" ? body.memo : null;
          this.invoiceLines.set(id, lines);
          this.created.invoice++;
        }
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
    // "The Request Token Structure": typ JWT; alg PS256/384/512 or ES256/384/512; kid = the
    // certificate id of the mapping; iss = the integration's client id; scope = restlets,
    // rest_webservices, suite_analytics, comma-separated; aud = the token endpoint; exp at most
    // 60 minutes after iat.
    const getKey: JWTVerifyGetKey = async (header) => {
      const client = this.clients.find((c) => c.certificateId === header.kid);
      if (!client) throw new Error("unknown certificate");
      return importSPKI(client.publicKeyPem, header.alg ?? client.algorithm);
    };
    try {
      const { payload, protectedHeader } = await jwtVerify(assertion, getKey, {
        audience: `${this.baseUrl}/services/rest/auth/oauth2/v1/token`,
        algorithms: ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"],
        typ: "JWT",
      });
      this.assertions.push(payload);
      const mapped = this.clients.find((c) => c.certificateId === protectedHeader.kid);
      if (mapped?.clientId !== payload.iss) throw new Error("unknown client");
      const scopes = Array.isArray(payload.scope)
        ? payload.scope.map(String)
        : String(payload.scope ?? "").split(",");
      if (!scopes.map((x) => x.trim()).includes("rest_webservices")) throw new Error("scope");
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
