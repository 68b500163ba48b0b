/**
 * Who is asking, as the gateway verified it and every subgraph receives it (see
 * gateway/src/auth.ts and subgraphs/kit/src/auth.ts).
 *
 * Glossary
 * - principal: a verified caller — a person with a bearer token, a service with an API key, or
 *   (development mode only) whoever the trusted `x-pshub-principal` header names.
 * - role: what the principal may do (`roles` claim of a token, stored with an API key).
 * - legal-entity scope: the legal-entity codes (`US`, `UK`, …) whose data the principal may see;
 *   `undefined` means all of them.
 */

/** The roles of the hub (issue 9). A token may carry others; they mean nothing to pshub. */
export const ROLES = ["analyst", "sales", "delivery", "finance", "integration", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** How the principal was established. */
export type AuthMethod =
  /** A bearer JWT (HS256 secret or a JWKS). */
  | "jwt"
  /** An API key from the `api_key` table. */
  | "api-key"
  /** Development mode: the trusted `x-pshub-principal` header, or nobody (anonymous). */
  | "development"
  /** The gateway itself (schema loading, health checks), never a client. */
  | "gateway";

export interface Principal {
  /** A token's `sub`, `apikey:<name>` for an API key, or the development header's value. */
  id: string;
  roles: readonly string[];
  /** Legal-entity codes this principal may see; undefined = every legal entity. */
  legalEntities?: readonly string[];
  method: AuthMethod;
}

/** A key that is equal for principals that must see the same data (result sharing, limits). */
export function principalScopeKey(principal: Principal): string {
  return JSON.stringify([
    principal.id,
    [...principal.roles].sort(),
    principal.legalEntities ? [...principal.legalEntities].sort() : null,
  ]);
}
