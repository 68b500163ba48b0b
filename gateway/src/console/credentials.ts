/**
 * What the ops console sends for a pasted credential, and what it reads from it to hide buttons.
 * A JWT (three dot-separated parts) goes as `Authorization: Bearer`, anything else as the API key
 * header; nothing pasted sends nothing (the gateway's development mode treats that as anonymous).
 * The roles are read from the token's payload only to decide which buttons to show: the graph
 * checks the token and the roles itself.
 */
import type { ExceptionOwner } from "./__generated__/operations.ts";

export function authHeaders(credential: string): Record<string, string> {
  const value = credential.trim();
  if (!value) return {};
  const token = value.replace(/^Bearer\s+/i, "");
  if (token.split(".").length === 3) return { authorization: `Bearer ${token}` };
  return { "x-api-key": value };
}

/** The `roles` claim of a pasted JWT; undefined when unknown (an API key, nothing, a non-JWT). */
export function rolesOf(credential: string): string[] | undefined {
  const token = credential.trim().replace(/^Bearer\s+/i, "");
  const payload = token.split(".")[1];
  if (token.split(".").length !== 3 || !payload) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as {
      roles?: unknown;
    };
    return Array.isArray(json.roles) ? json.roles.filter((r) => typeof r === "string") : [];
  } catch {
    return undefined;
  }
}

/**
 * The roles the graph lets retry, resolve and ignore an exception (the ops subgraph's
 * `@requiresScopes` on those mutations; admin holds every scope).
 */
const ACTING_ROLES: ReadonlySet<string> = new Set(["finance", "integration", "admin"]);

/** Whether to show the retry / resolve / ignore buttons; unknown roles: show them, the graph decides. */
export function mayAct(roles: string[] | undefined): boolean {
  if (roles === undefined) return true;
  return roles.some((role) => ACTING_ROLES.has(role));
}

/** The console's pages, and the roles the graph lets read what each shows (the SDL's rules). */
export type Page = "exceptions" | "where" | "sync" | "kpis";
const PAGE_ROLES: Record<Page, ReadonlySet<string>> = {
  // syncExceptions: every hub role.
  exceptions: new Set(["analyst", "sales", "delivery", "finance", "integration", "admin"]),
  // entitySearch and lineage.
  where: new Set(["analyst", "finance", "integration", "admin"]),
  // syncStatus.
  sync: new Set(["analyst", "integration", "admin"]),
  // kpis.
  kpis: new Set(["analyst", "finance", "admin"]),
};

/** Whether to offer a page in the menu; unknown roles (an API key): offer it, the graph decides. */
export function mayOpen(page: Page, roles: string[] | undefined): boolean {
  if (roles === undefined) return true;
  return roles.some((role) => PAGE_ROLES[page].has(role));
}

/** Whether to show the resync button (Mutation.resyncEntity: integration, admin). */
export function mayResync(roles: string[] | undefined): boolean {
  if (roles === undefined) return true;
  return roles.some((role) => role === "integration" || role === "admin");
}

/** The exception owner team each role works for (the queue opens on that team's exceptions). */
const ROLE_OWNERS: Record<string, ExceptionOwner> = {
  finance: "FINANCE",
  delivery: "PROJECT_OPS",
  sales: "SALES_OPS",
  integration: "INTEGRATION",
};

/**
 * The owner team the exception queue opens on: the one team the roles work for; none (every
 * owner) for analyst and admin, for roles of several teams, and for unknown roles. The filter can
 * still be widened: what a role may read is the graph's to decide.
 */
export function ownerOfRoles(roles: string[] | undefined): ExceptionOwner | undefined {
  if (!roles || roles.includes("admin") || roles.includes("analyst")) return undefined;
  const owners = new Set(roles.flatMap((role) => (ROLE_OWNERS[role] ? [ROLE_OWNERS[role]] : [])));
  return owners.size === 1 ? [...owners][0] : undefined;
}
