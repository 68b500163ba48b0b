/**
 * One authenticated jsforce connection to a Salesforce org, shared by the Salesforce and Certinia
 * connectors, with the org's API limits respected:
 *
 * - Sforce-Limit-Info is read on every response (jsforce keeps it in `conn.limitInfo`); above
 *   `slowDownShare` of the daily limit every call waits `slowDownDelayMs` first.
 * - REQUEST_LIMIT_EXCEEDED pauses every call until `pausedUntil` (ApiPausedError meanwhile).
 * - INVALID_SESSION_ID re-authenticates (username-password flow again, or the refresh token) and
 *   retries the call once; a second refusal is an error.
 * - 429/503 on idempotent requests are retried with backoff by jsforce's own transport.
 *
 * Auth: the OAuth 2.0 username-password flow (login URL + client id/secret + username/password),
 * or an access token for an instance URL (+ a refresh token and client id to renew it).
 */
import jsforce, { type Connection } from "jsforce";
import { setDefaults } from "jsforce/lib/request.js";

export type SalesforceAuth =
  | {
      kind: "password";
      loginUrl: string;
      clientId: string;
      clientSecret: string;
      username: string;
      password: string;
    }
  | {
      kind: "token";
      instanceUrl: string;
      accessToken: string;
      refreshToken?: string;
      loginUrl?: string;
      clientId?: string;
      clientSecret?: string;
    };

export interface SalesforceClientOptions {
  auth: SalesforceAuth;
  apiVersion: string;
  /** Share of the daily API limit above which calls slow down (0–1). */
  slowDownShare: number;
  slowDownDelayMs: number;
  /** How long to pause after REQUEST_LIMIT_EXCEEDED. */
  limitPauseMs: number;
  /** Per-request HTTP timeout. */
  httpTimeoutMs: number;
  /** Sent as Sforce-Call-Options client=…; CDC reports it in changeOrigin (loop prevention). */
  clientName: string;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/** A typed error for a Salesforce refusal: the errorCode and message of its error body. */
export class SalesforceApiError extends Error {
  constructor(
    message: string,
    readonly errorCode: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SalesforceApiError";
  }
}

/** Calls are paused after REQUEST_LIMIT_EXCEEDED until `until`. */
export class ApiPausedError extends SalesforceApiError {
  constructor(readonly until: Date) {
    super(
      `Salesforce API paused until ${until.toISOString()} (REQUEST_LIMIT_EXCEEDED)`,
      "API_PAUSED",
    );
    this.name = "ApiPausedError";
  }
}

export function errorCodeOf(err: unknown): string | undefined {
  const e = err as { errorCode?: unknown; name?: unknown };
  return typeof e?.errorCode === "string" ? e.errorCode : undefined;
}

/** A refused access token: REST's 401 INVALID_SESSION_ID, or the identity endpoints' 401/403
 *  (`Bad_OAuth_Token`, `Missing_OAuth_Token`, as jsforce reports a plain-text error body). */
function tokenRefused(err: unknown): boolean {
  const code = errorCodeOf(err);
  return (
    code === "INVALID_SESSION_ID" ||
    code === "ERROR_HTTP_401" ||
    (code === "ERROR_HTTP_403" && /OAuth_Token/.test((err as Error).message))
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SalesforceClient {
  readonly conn: Connection;
  /** The authenticated (integration) user's id. */
  userId?: string;
  pausedUntil?: Date;
  /** Re-authentications done (for status and tests). */
  reauthentications = 0;
  private connecting?: Promise<void>;
  private readonly refreshListeners: (() => void)[] = [];

  constructor(readonly options: SalesforceClientOptions) {
    setDefaults({ timeout: options.httpTimeoutMs });
    const a = options.auth;
    this.conn = new jsforce.Connection({
      version: options.apiVersion,
      ...(a.kind === "token" ? { instanceUrl: a.instanceUrl, accessToken: a.accessToken } : {}),
      callOptions: { client: options.clientName },
    });
  }

  /** API budget as Salesforce last reported it. */
  get apiUsage(): { used: number; limit: number } | undefined {
    return this.conn.limitInfo?.apiUsage;
  }

  /** Called after every re-authentication (streaming clients reconnect with the new token). */
  onReauthenticate(listener: () => void): void {
    this.refreshListeners.push(listener);
  }

  async connect(): Promise<void> {
    this.connecting ??= this.authenticate().finally(() => {
      this.connecting = undefined;
    });
    await this.connecting;
  }

  private async authenticate(): Promise<void> {
    const a = this.options.auth;
    if (a.kind === "password") {
      const oauth2 = new jsforce.OAuth2({
        loginUrl: a.loginUrl,
        clientId: a.clientId,
        clientSecret: a.clientSecret,
      });
      const res = await oauth2.authenticate(a.username, a.password);
      this.conn.instanceUrl = res.instance_url;
      this.conn.accessToken = res.access_token;
      this.userId = res.id.split("/").pop();
    } else if (!this.reauthentications) {
      // A given token: find out whose it is (loop prevention needs the integration user). A token
      // that expired before the start is renewed with the refresh token (UserInfo refuses it with
      // 403 Bad_OAuth_Token, not the REST API's 401 INVALID_SESSION_ID).
      try {
        const info = await this.conn.request<{ user_id?: string }>("/services/oauth2/userinfo");
        this.userId = info.user_id;
      } catch (err) {
        if (!tokenRefused(err)) {
          // e.g. a token without the openid/id scope: loop prevention then relies on
          // SALESFORCE_INTEGRATION_USER_IDS and changeOrigin.
          this.options.log?.("salesforce userinfo unavailable; integration user unknown", {
            error: (err as Error).message,
          });
        } else if (a.refreshToken && a.clientId) {
          this.options.log?.("salesforce access token refused at start; renewing it");
          await this.refresh(a);
        } else {
          throw new SalesforceApiError(
            "the configured SALESFORCE_ACCESS_TOKEN is refused (expired or revoked) and no refresh token is configured",
            "INVALID_SESSION_ID",
            { cause: err },
          );
        }
      }
    } else if (a.refreshToken && a.clientId) {
      await this.refresh(a);
    } else {
      throw new SalesforceApiError(
        "the Salesforce session expired and no refresh token or password is configured",
        "INVALID_SESSION_ID",
      );
    }
  }

  private async refresh(a: Extract<SalesforceAuth, { kind: "token" }>): Promise<void> {
    const oauth2 = new jsforce.OAuth2({
      loginUrl: a.loginUrl ?? "https://login.salesforce.com",
      clientId: a.clientId,
      clientSecret: a.clientSecret,
    });
    const res = await oauth2.refreshToken(a.refreshToken!);
    this.conn.instanceUrl = res.instance_url ?? this.conn.instanceUrl;
    this.conn.accessToken = res.access_token;
    this.userId = res.id?.split("/").pop() ?? this.userId;
  }

  private async reauthenticate(): Promise<void> {
    this.reauthentications += 1;
    this.options.log?.("salesforce session expired; re-authenticating");
    await this.authenticate();
    for (const l of this.refreshListeners) l();
  }

  /**
   * Runs one API call under the org's limits: waits while paused or slowed down, re-authenticates
   * once on INVALID_SESSION_ID, and pauses on REQUEST_LIMIT_EXCEEDED.
   */
  async call<T>(fn: (conn: Connection) => PromiseLike<T>): Promise<T> {
    if (!this.conn.accessToken) await this.connect();
    if (this.pausedUntil && this.pausedUntil.getTime() > Date.now()) {
      throw new ApiPausedError(this.pausedUntil);
    }
    this.pausedUntil = undefined;
    const usage = this.apiUsage;
    if (usage && usage.limit > 0 && usage.used / usage.limit >= this.options.slowDownShare) {
      await sleep(this.options.slowDownDelayMs);
    }
    try {
      return await this.guard(fn);
    } catch (err) {
      if (errorCodeOf(err) !== "INVALID_SESSION_ID") throw err;
      await this.reauthenticate();
      return await this.guard(fn);
    }
  }

  private async guard<T>(fn: (conn: Connection) => PromiseLike<T>): Promise<T> {
    try {
      return await fn(this.conn);
    } catch (err) {
      if (errorCodeOf(err) === "REQUEST_LIMIT_EXCEEDED") {
        this.pausedUntil = new Date(Date.now() + this.options.limitPauseMs);
        this.options.log?.("salesforce API limit exceeded; pausing", {
          until: this.pausedUntil.toISOString(),
        });
        throw new ApiPausedError(this.pausedUntil);
      }
      throw err;
    }
  }
}
