/**
 * Who is asking: the gateway's one authenticator, used by HTTP requests and by graphql-ws
 * `connection_init` alike (subscriptions/server.ts).
 *
 * Credentials, in this order:
 * 1. an API key — `x-api-key: pshub_…` or `Authorization: Bearer pshub_…` — looked up by its
 *    SHA-256 in the `api_key` table (db/src/api-keys.ts); unknown or revoked → refused;
 * 2. a bearer JWT — HS256 with GATEWAY_JWT_SECRET, or RS256/ES256 with a key from
 *    GATEWAY_JWKS_URL (jose's remote JWK set: fetched on first use, refetched when a token names
 *    a key id it does not hold, so the issuer can rotate keys). `iss`, `aud`, `exp` and `sub` are
 *    required, `nbf` is checked, `alg: none` and any algorithm not configured are refused.
 *    `roles` (an array of role names) and `legalEntities` (an array of legal-entity codes; absent
 *    = all) become the principal's;
 * 3. nothing: in production mode (a JWT secret or JWKS configured, or GATEWAY_AUTH_MODE=
 *    production) refused; in development mode the `x-pshub-principal` header (with
 *    `x-pshub-roles`, `x-pshub-legal-entities`) is trusted as sent; no header is "anonymous" with the role
 *    `analyst` (read-only; `developmentRoles` changes it).
 *
 * A refused caller gets `{ ok: false }` and nothing runs: HTTP answers 401 UNAUTHENTICATED, a
 * WebSocket is closed with 4401. In production mode a client's `x-pshub-principal` is ignored
 * wherever it comes from (header or connection params), so it cannot be spoofed.
 */
import type { Db, Principal } from "@pshub/db";
import { findApiKey, hashApiKey, looksLikeApiKey, touchApiKey } from "@pshub/db";
import { developmentPrincipal } from "@pshub/subgraph-kit";
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";

export type AuthMode = "production" | "development";

export interface AuthOptions {
  /** Default: production when `jwtSecret` or `jwksUrl` is set, else development. */
  mode?: AuthMode;
  /** HS256 secret (at least 32 characters). */
  jwtSecret?: string;
  /** JWKS URL for RS256/ES256 tokens (an identity provider's `jwks_uri`). */
  jwksUrl?: string;
  /** Required `iss` (default "pshub"). */
  issuer?: string;
  /** Required `aud` (default "pshub"). */
  audience?: string;
  /** Clock skew allowed for exp/nbf, in seconds (default 5). */
  clockToleranceSeconds?: number;
  /** The JWKS is not refetched more often than this for unknown key ids (default 30 s). */
  jwksCooldownMs?: number;
  /** A fetched JWKS is trusted this long before it is fetched again (default 10 min). */
  jwksCacheMaxAgeMs?: number;
  /** The database holding `api_key`; without it API keys are refused. */
  apiKeys?: Db;
  /** A verified API key is remembered this long: revocation takes effect within it (default 5 s). */
  apiKeyCacheMs?: number;
  /**
   * Development mode: the roles of a caller that sends neither a credential nor `x-pshub-roles`
   * (default `analyst`: reads everything but cost rates, changes nothing; kit DEVELOPMENT_ROLES).
   */
  developmentRoles?: readonly string[];
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; message: string };

/** Header-like input: HTTP request headers, or a WebSocket's connection params (lower-cased). */
export type Credentials = Record<string, string | string[] | undefined>;

export interface Authenticator {
  (credentials: Credentials): Promise<AuthResult>;
  mode: AuthMode;
  /** What is configured, for the start-up log line. */
  methods: string[];
}

export const API_KEY_HEADER = "x-api-key";
export const DEFAULT_JWT_ISSUER = "pshub";
export const DEFAULT_JWT_AUDIENCE = "pshub";

const first = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

/** The principal of a verified token's claims, or why the claims are unusable. */
function principalOfClaims(payload: JWTPayload): AuthResult {
  const { sub, roles, legalEntities } = payload as JWTPayload & Record<string, unknown>;
  if (typeof sub !== "string" || !sub) return { ok: false, message: "token has no subject" };
  if (roles !== undefined && !isStringArray(roles))
    return { ok: false, message: "token claim `roles` must be an array of role names" };
  if (legalEntities !== undefined && !isStringArray(legalEntities))
    return {
      ok: false,
      message: "token claim `legalEntities` must be an array of legal-entity codes",
    };
  return {
    ok: true,
    principal: {
      id: sub,
      roles: roles ?? [],
      ...(legalEntities ? { legalEntities } : {}),
      method: "jwt",
    },
  };
}

export function createAuthenticator(options: AuthOptions = {}): Authenticator {
  const secret = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;
  const jwks = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl), {
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
      })
    : undefined;
  const mode: AuthMode = options.mode ?? (secret || jwks ? "production" : "development");
  const algorithms = [...(secret ? ["HS256"] : []), ...(jwks ? ["RS256", "ES256"] : [])];
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256" && secret) return secret;
    if (jwks && header.alg !== "HS256") return jwks(header, token);
    // jwtVerify refuses the algorithm itself (not in `algorithms`); this is a fallback.
    throw new Error(`tokens signed with ${header.alg} are not accepted`);
  };
  const apiKeyCacheMs = options.apiKeyCacheMs ?? 5_000;
  const apiKeyCache = new Map<string, { principal: Principal; until: number }>();

  const verifyApiKey = async (key: string): Promise<AuthResult> => {
    const db = options.apiKeys;
    if (!db) return { ok: false, message: "API keys are not accepted by this gateway" };
    const hash = hashApiKey(key);
    const hit = apiKeyCache.get(hash);
    if (hit && hit.until > Date.now()) return { ok: true, principal: hit.principal };
    const record = looksLikeApiKey(key) ? await findApiKey(db, key) : null;
    if (!record) {
      apiKeyCache.delete(hash);
      return { ok: false, message: "unknown or revoked API key" };
    }
    const principal: Principal = {
      id: `apikey:${record.name}`,
      roles: record.roles,
      ...(record.legalEntities ? { legalEntities: record.legalEntities } : {}),
      method: "api-key",
    };
    if (apiKeyCacheMs > 0) {
      if (apiKeyCache.size > 10_000) apiKeyCache.clear();
      apiKeyCache.set(hash, { principal, until: Date.now() + apiKeyCacheMs });
    }
    // Last-used time: at most one write a minute per key, never in the request's way.
    touchApiKey(db, record.id).catch(() => {});
    return { ok: true, principal };
  };

  const verifyToken = async (token: string): Promise<AuthResult> => {
    if (algorithms.length === 0)
      return {
        ok: false,
        message:
          "bearer tokens are not configured on this gateway (GATEWAY_JWT_SECRET or GATEWAY_JWKS_URL)",
      };
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms,
        issuer: options.issuer ?? DEFAULT_JWT_ISSUER,
        audience: options.audience ?? DEFAULT_JWT_AUDIENCE,
        requiredClaims: ["exp", "sub"],
        clockTolerance: options.clockToleranceSeconds ?? 5,
      });
      return principalOfClaims(payload);
    } catch (error) {
      return { ok: false, message: `invalid token: ${(error as Error).message}` };
    }
  };

  const authenticate = async (credentials: Credentials): Promise<AuthResult> => {
    const apiKey = first(credentials[API_KEY_HEADER])?.trim();
    if (apiKey) return verifyApiKey(apiKey);
    const authorization = first(credentials.authorization)?.trim();
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!match?.[1]) return { ok: false, message: "Authorization must be `Bearer <token>`" };
      return looksLikeApiKey(match[1]) ? verifyApiKey(match[1]) : verifyToken(match[1]);
    }
    if (mode === "production")
      return {
        ok: false,
        message: "authentication required: send `Authorization: Bearer <token>` or `x-api-key`",
      };
    return { ok: true, principal: developmentPrincipal(credentials, options.developmentRoles) };
  };

  return Object.assign(authenticate, {
    mode,
    methods: [
      ...(secret ? ["jwt (HS256)"] : []),
      ...(jwks ? [`jwt (RS256/ES256 from ${options.jwksUrl})`] : []),
      ...(options.apiKeys ? ["api keys"] : []),
      ...(mode === "development" ? ["trusted x-pshub-principal header (development)"] : []),
    ],
  });
}

/** The principal of the gateway's own subgraph calls (schema loading, health checks). */
export const GATEWAY_PRINCIPAL: Principal = { id: "gateway", roles: [], method: "gateway" };
