/**
 * The subgraphs trust only the gateway. The gateway forwards the principal it verified in
 * `x-pshub-principal-token`: a JWT (HS256) signed with GATEWAY_SUBGRAPH_SECRET, a key only the
 * gateway and the subgraphs hold, issuer `pshub-gateway`, audience `pshub-subgraph`, valid for
 * 60 s. Every subgraph verifies it here, in one place (the kit's HTTP adapter); a request
 * without a valid one is answered 401 UNAUTHENTICATED before anything runs.
 *
 * Without a secret (development, and tests that run subgraphs in-process) the plain headers are
 * trusted instead: `x-pshub-principal` (id), `x-pshub-roles` and `x-pshub-legal-entities`
 * (comma-separated). This is the only module that knows both formats; the gateway signs with
 * {@link createPrincipalSigner}.
 */
import type { Principal } from "@pshub/db";
import { jwtVerify, SignJWT } from "jose";

/** The gateway's signed principal token (every subgraph call). */
export const PRINCIPAL_TOKEN_HEADER = "x-pshub-principal-token";
/**
 * The development headers: the caller's id, roles and legal-entity scope, trusted as sent only
 * in development mode (gateway and subgraphs). Defined here only; the gateway imports them.
 */
export const PRINCIPAL_ID_HEADER = "x-pshub-principal";
export const ROLES_HEADER = "x-pshub-roles";
export const LEGAL_ENTITIES_HEADER = "x-pshub-legal-entities";

const ISSUER = "pshub-gateway";
const AUDIENCE = "pshub-subgraph";
/** Lifetime of a forwarded principal; a signed token is reused for half of it. */
const TOKEN_TTL_SECONDS = 60;

/**
 * What a caller in development mode gets when it names no roles (`x-pshub-roles` absent, no
 * token): `analyst`, who reads everything but cost rates and changes nothing. To act as another
 * role in development, send a demo token (`npm start` prints one per role) or `x-pshub-roles`.
 */
export const DEVELOPMENT_ROLES: readonly string[] = ["analyst"];

type Headers = Record<string, string | string[] | undefined>;

const headerValue = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
};

const commaList = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/**
 * Development mode's trusted headers. `x-pshub-roles` absent → {@link DEVELOPMENT_ROLES};
 * `x-pshub-legal-entities` absent → every legal entity.
 */
export function developmentPrincipal(
  headers: Headers,
  defaultRoles: readonly string[] = DEVELOPMENT_ROLES,
): Principal {
  const id = headerValue(headers, PRINCIPAL_ID_HEADER)?.trim();
  const roles = headerValue(headers, ROLES_HEADER);
  const legalEntities = headerValue(headers, LEGAL_ENTITIES_HEADER);
  return {
    id: id || "anonymous",
    roles: roles === undefined ? defaultRoles : commaList(roles),
    ...(legalEntities === undefined ? {} : { legalEntities: commaList(legalEntities) }),
    method: "development",
  };
}

/** The plain headers of {@link developmentPrincipal}, for a gateway without a subgraph secret. */
export function developmentHeaders(principal: Principal): Record<string, string> {
  return {
    [PRINCIPAL_ID_HEADER]: principal.id,
    [ROLES_HEADER]: principal.roles.join(","),
    ...(principal.legalEntities
      ? { [LEGAL_ENTITIES_HEADER]: principal.legalEntities.join(",") }
      : {}),
  };
}

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/** Signs principals for the subgraphs; one token per principal is reused for 30 s. */
export function createPrincipalSigner(secret: string): (principal: Principal) => Promise<string> {
  const key = keyOf(secret);
  const cache = new Map<string, { token: string; until: number }>();
  return async (principal) => {
    const cacheKey = JSON.stringify(principal);
    const now = Date.now();
    const hit = cache.get(cacheKey);
    if (hit && hit.until > now) return hit.token;
    const token = await new SignJWT({
      roles: principal.roles,
      ...(principal.legalEntities ? { legalEntities: principal.legalEntities } : {}),
      method: principal.method,
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(principal.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
      .sign(key);
    if (cache.size > 10_000) cache.clear();
    cache.set(cacheKey, { token, until: now + (TOKEN_TTL_SECONDS * 1000) / 2 });
    return token;
  };
}

export class PrincipalTokenError extends Error {
  override name = "PrincipalTokenError";
}

const METHODS = new Set(["jwt", "api-key", "development", "gateway"]);
const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");

/**
 * Verifies forwarded principals. Throws {@link PrincipalTokenError} for a missing, forged,
 * expired or malformed one. Verified tokens are remembered until they expire.
 */
export function createPrincipalVerifier(
  secret: string,
): (token: string | undefined) => Promise<Principal> {
  const key = keyOf(secret);
  const cache = new Map<string, { principal: Principal; until: number }>();
  return async (token) => {
    if (!token)
      throw new PrincipalTokenError(
        `missing ${PRINCIPAL_TOKEN_HEADER}: call the gateway, not a subgraph`,
      );
    const hit = cache.get(token);
    if (hit && hit.until > Date.now()) return hit.principal;
    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ["HS256"],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ["exp", "sub"],
      }));
    } catch (error) {
      throw new PrincipalTokenError(
        `invalid ${PRINCIPAL_TOKEN_HEADER}: ${(error as Error).message}`,
      );
    }
    const { sub, roles, legalEntities, method, exp } = payload as Record<string, unknown>;
    if (
      typeof sub !== "string" ||
      !isStringArray(roles) ||
      (legalEntities !== undefined && !isStringArray(legalEntities)) ||
      typeof method !== "string" ||
      !METHODS.has(method)
    )
      throw new PrincipalTokenError(`invalid ${PRINCIPAL_TOKEN_HEADER}: malformed principal`);
    const principal: Principal = {
      id: sub,
      roles,
      ...(legalEntities ? { legalEntities } : {}),
      method: method as Principal["method"],
    };
    if (cache.size > 10_000) cache.clear();
    cache.set(token, { principal, until: Number(exp) * 1000 });
    return principal;
  };
}
