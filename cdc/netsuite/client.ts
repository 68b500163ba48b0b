/**
 * NetSuite REST web services client: SuiteQL (`POST /services/rest/query/v1/suiteql`, `Prefer:
 * transient`, limit/offset) and the record service (`/services/rest/record/v1/…`). Auth is a
 * bearer token: NETSUITE_ACCESS_TOKEN as given, or OAuth 2.0 client credentials (machine to
 * machine): a JWT assertion signed with the certificate's private key (jose; PS256 by default,
 * `kid` = certificate id, `iss` = client id, `aud` = the token endpoint, `scope` =
 * rest_webservices) exchanged at `/services/rest/auth/oauth2/v1/token`, cached until shortly
 * before it expires and renewed once on a 401.
 */
import { importPKCS8, SignJWT } from "jose";
import { z } from "zod";

export interface NetSuiteAuth {
  accessToken?: string;
  clientCredentials?: {
    clientId: string;
    certificateId: string;
    /** PKCS#8 PEM private key of the certificate mapped to the integration. */
    privateKey: string;
    algorithm?: string;
    /** Default `${baseUrl}/services/rest/auth/oauth2/v1/token`. */
    tokenUrl?: string;
    scope?: string;
  };
}

export interface NetSuiteClientOptions {
  /** The REST root under which /services/rest/… lives, e.g. https://123456.suitetalk.api.netsuite.com */
  baseUrl: string;
  auth: NetSuiteAuth;
  timeoutMs?: number;
}

/** A NetSuite error answer (`o:errorDetails`), a timeout or a network failure. */
export class NetSuiteError extends Error {
  override name = "NetSuiteError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
  /** 429, 5xx, timeouts and network errors: try again later. */
  get transient(): boolean {
    return this.status === 429 || this.status >= 500 || this.status === 0;
  }
}

const errorBody = z.object({
  title: z.string().optional(),
  status: z.number().optional(),
  "o:errorDetails": z
    .array(z.object({ detail: z.string().optional(), "o:errorCode": z.string().optional() }))
    .optional(),
});

const suiteqlPage = z.object({
  items: z.array(z.record(z.string(), z.unknown())),
  hasMore: z.boolean(),
  count: z.number().optional(),
  offset: z.number().optional(),
  totalResults: z.number().optional(),
  links: z.array(z.object({ rel: z.string(), href: z.string() })).optional(),
});
export type SuiteQLPage = z.infer<typeof suiteqlPage>;

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.union([z.string(), z.number()]).optional(),
});

export class NetSuiteClient {
  private token?: { value: string; expiresAt: number };
  /** Requests sent (syncStatus's API budget). */
  requests = 0;

  constructor(private readonly options: NetSuiteClientOptions) {
    if (!options.auth.accessToken && !options.auth.clientCredentials)
      throw new Error("NetSuite needs an access token or client credentials");
  }

  private get root(): string {
    return this.options.baseUrl.replace(/\/+$/, "");
  }

  private async bearer(renew = false): Promise<string> {
    const { accessToken, clientCredentials: cc } = this.options.auth;
    if (!cc) return accessToken!;
    if (!renew && this.token && this.token.expiresAt > Date.now() + 60_000) return this.token.value;
    const tokenUrl = cc.tokenUrl ?? `${this.root}/services/rest/auth/oauth2/v1/token`;
    const alg = cc.algorithm ?? "PS256";
    const key = await importPKCS8(cc.privateKey, alg);
    const now = Math.floor(Date.now() / 1000);
    // scope: "restlets, rest_webservices, suite_analytics, or all of them, separated by a comma".
    const scope = (cc.scope ?? "rest_webservices").split(/[ ,]+/).filter(Boolean).join(",");
    const assertion = await new SignJWT({ scope })
      .setProtectedHeader({ alg, typ: "JWT", kid: cc.certificateId })
      .setIssuer(cc.clientId)
      .setAudience(tokenUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + 3000)
      .sign(key);
    const res = await this.fetch(tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertion,
      }).toString(),
    });
    const text = await res.text();
    if (!res.ok)
      throw new NetSuiteError(
        res.status,
        "TOKEN_REFUSED",
        `NetSuite token endpoint answered ${res.status}: ${text.slice(0, 300)}`,
      );
    const parsed = tokenAnswer.parse(JSON.parse(text));
    this.token = {
      value: parsed.access_token,
      expiresAt: Date.now() + Number(parsed.expires_in ?? 3600) * 1000,
    };
    return this.token.value;
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    this.requests++;
    try {
      return await fetch(url, {
        ...init,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      const timeout = (error as Error)?.name === "TimeoutError";
      throw new NetSuiteError(
        0,
        timeout ? "TIMEOUT" : "NETWORK",
        `NetSuite ${timeout ? "timed out" : "unreachable"}: ${(error as Error).message}`,
      );
    }
  }

  /** One authenticated request; a 401 renews an OAuth token once. Errors become NetSuiteError. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.fetch(`${this.root}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await this.bearer(attempt > 0)}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.ok) return res;
      if (res.status === 401 && attempt === 0 && this.options.auth.clientCredentials) continue;
      const text = await res.text();
      let code = `HTTP_${res.status}`;
      let detail = text.slice(0, 500);
      try {
        const parsed = errorBody.parse(JSON.parse(text));
        const first = parsed["o:errorDetails"]?.[0];
        code = first?.["o:errorCode"] ?? code;
        detail = first?.detail ?? parsed.title ?? detail;
      } catch {}
      const retryAfter = Number(res.headers.get("retry-after"));
      throw new NetSuiteError(
        res.status,
        code,
        `NetSuite ${res.status} ${code}: ${detail}`,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
  }

  /** One page of a SuiteQL query. */
  async suiteql(q: string, limit: number, offset: number): Promise<SuiteQLPage> {
    const res = await this.request(
      "POST",
      `/services/rest/query/v1/suiteql?limit=${limit}&offset=${offset}`,
      { q },
      { prefer: "transient" },
    );
    return suiteqlPage.parse(await res.json());
  }

  /** GET a record (record service), undefined on 404. */
  async getRecord(type: string, id: string): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await this.request(
        "GET",
        `/services/rest/record/v1/${type}/${encodeURIComponent(id)}`,
      );
      return (await res.json()) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof NetSuiteError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Upsert by external id (PUT …/eid:{externalId}): the write-back path for posting invoices. */
  async upsertByExternalId(
    type: string,
    externalId: string,
    body: Record<string, unknown>,
  ): Promise<string | undefined> {
    const res = await this.request(
      "PUT",
      `/services/rest/record/v1/${type}/eid:${encodeURIComponent(externalId)}`,
      body,
    );
    return res.headers.get("location")?.split("/").pop();
  }
}
