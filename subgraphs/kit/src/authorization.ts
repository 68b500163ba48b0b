/**
 * Roles, as the SDL declares them with Apollo Federation's authorization directives, enforced in
 * one place for every subgraph (createSubgraphServer applies {@link enforceAuthorization} to the
 * executable schema) and read by the gateway for subscriptions ({@link requirementsOfSdl}).
 *
 * - `@authenticated`: any principal that holds a hub role.
 * - `@requiresScopes(scopes: [["finance"], ["delivery"]])`: the principal's scopes must satisfy one
 *   inner list entirely (OR of ANDs, as Apollo Router reads it). A principal's scopes are its
 *   roles; `admin` holds every role's scope ({@link scopesOf}).
 * - `@policy(policies: [["name"]])`: a rule that needs data, decided with the request context and
 *   the field's arguments. The kit knows one family itself, `inScope:<table>:<argument>`: the row
 *   of `<table>` (a db table name) that the argument names (`input.invoiceId`, or a list of ids)
 *   must be inside the caller's legal-entity scope — otherwise the field answers NOT_FOUND, as for
 *   an id that does not exist, so a scoped caller learns nothing of other entities. An absent
 *   argument passes. `scopedTarget:<a>|<b>`: a scoped caller must give one of the arguments (a
 *   mutation over "everything" would reach other entities). Other names are the subgraph's own
 *   (`policies` of createSubgraphServer); an unknown policy denies.
 *
 * Where a directive sits decides what it guards, as in Apollo's model: on a field, that field; on
 * a type, every field that returns the type (so a list, a by-id lookup and an entity reference
 * alike) and every field of the type (so `_entities` cannot reach around it). A field the caller
 * may not see resolves to null with a FORBIDDEN error at its path; a mutation field is refused
 * before its resolver runs, so nothing changes.
 */
import type { Principal } from "@pshub/db";
import { ROLES, schema as tables } from "@pshub/db";
import { getTableName } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import {
  type ConstDirectiveNode,
  type DocumentNode,
  defaultFieldResolver,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isObjectType,
  Kind,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  parse,
  valueFromASTUntyped,
} from "graphql";
import { NotFoundGraphQLError } from "./errors.ts";
import { isUuid } from "./filters.ts";

/** What a field (or type) requires; every part must hold. */
export interface Requirement {
  authenticated: boolean;
  /** OR of ANDs of scopes; empty = no scope needed. Several directives: all must hold. */
  scopes: string[][][];
  /** OR of ANDs of policy names, likewise. */
  policies: string[][][];
}

/** The request context as policies see it (the subgraph's context). */
export interface PolicyContext {
  auth: Principal;
  loaders: { byId(table: PgTable): { load(id: string): Promise<unknown> } };
}

/**
 * A rule that needs data: decides for one field of one request. It may throw a GraphQLError of
 * its own (NOT_FOUND) instead of answering false (FORBIDDEN).
 */
export type Policy = (
  context: PolicyContext,
  args: Record<string, unknown>,
) => boolean | Promise<boolean>;

/** A field a principal may not see, or a mutation it may not run. */
export class ForbiddenError extends GraphQLError {
  constructor(what: string, requirement: Requirement, principal: Principal) {
    const needed = describeRequirement(requirement);
    super(
      `${what} is not allowed for ${principal.roles.length ? `roles ${principal.roles.join(", ")}` : "a principal without roles"}: it requires ${needed}`,
      { extensions: { code: "FORBIDDEN", requires: needed } },
    );
  }
}

const EMPTY: Requirement = { authenticated: false, scopes: [], policies: [] };

/** {@link scopesOf} per principal object: a request's principal is asked once per guarded field. */
const scopesByPrincipal = new WeakMap<Principal, ReadonlySet<string>>();

/** The scopes a principal holds: its hub roles, and every role's scope for `admin`. */
export function scopesOf(principal: Principal): ReadonlySet<string> {
  let scopes = scopesByPrincipal.get(principal);
  if (!scopes) {
    const roles = principal.roles.filter((role) => (ROLES as readonly string[]).includes(role));
    scopes = new Set(roles.includes("admin") ? ROLES : roles);
    scopesByPrincipal.set(principal, scopes);
  }
  return scopes;
}

const anyOfAll = (alternatives: string[][], holds: (name: string) => boolean) =>
  alternatives.some((all) => all.every(holds));

/** Whether `principal` meets the roles part of `requirement` (@authenticated, @requiresScopes). */
export function allows(requirement: Requirement, principal: Principal): boolean {
  const scopes = scopesOf(principal);
  if (requirement.authenticated && scopes.size === 0) return false;
  return requirement.scopes.every((alternatives) => anyOfAll(alternatives, (s) => scopes.has(s)));
}

const TABLES = new Map<string, PgTable>(
  (Object.values(tables) as unknown[])
    .filter((value): value is PgTable => value instanceof PgTable)
    .map((table) => [getTableName(table), table]),
);

const argumentAt = (args: Record<string, unknown>, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], args);

/** The kit's own policies (`inScope:…`, `scopedTarget:…`), else the subgraph's. */
function policyNamed(name: string, own: Record<string, Policy>): Policy | undefined {
  const [family, ...rest] = name.split(":");
  if (family === "inScope" && rest.length === 2) {
    const [tableName, path] = rest as [string, string];
    const table = TABLES.get(tableName);
    if (!table) throw new Error(`@policy ${name}: no table ${tableName}`);
    return async (context, args) => {
      if (context.auth.legalEntities === undefined) return true;
      const value = argumentAt(args, path);
      const ids = value == null ? [] : Array.isArray(value) ? value : [value];
      for (const id of ids) {
        // Malformed ids are the resolver's to refuse (BAD_USER_INPUT), as for everyone.
        if (typeof id !== "string" || !isUuid(id)) continue;
        if (!(await context.loaders.byId(table).load(id)))
          throw new NotFoundGraphQLError(tableName, id);
      }
      return true;
    };
  }
  if (family === "scopedTarget" && rest.length === 1) {
    const names = rest[0]!.split("|");
    return (context, args) =>
      context.auth.legalEntities === undefined || names.some((n) => argumentAt(args, n) != null);
  }
  return own[name];
}

async function passesPolicies(
  requirement: Requirement,
  own: Record<string, Policy>,
  context: PolicyContext,
  args: Record<string, unknown>,
): Promise<boolean> {
  for (const alternatives of requirement.policies) {
    let any = false;
    for (const all of alternatives) {
      let every = true;
      for (const name of all) {
        const policy = policyNamed(name, own);
        if (!policy || !(await policy(context, args))) {
          every = false;
          break;
        }
      }
      if (every) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

/** "one of [finance] or [admin]" — for error messages and docs. */
export function describeRequirement(requirement: Requirement): string {
  const parts = [
    ...(requirement.authenticated ? ["an authenticated principal with a role"] : []),
    ...requirement.scopes.map(
      (alternatives) => `role ${alternatives.map((all) => all.join(" and ")).join(" or ")}`,
    ),
    ...requirement.policies.map(
      (alternatives) => `policy ${alternatives.map((all) => all.join(" and ")).join(" or ")}`,
    ),
  ];
  return parts.join(", ") || "nothing";
}

const isEmpty = (r: Requirement) => !r.authenticated && !r.scopes.length && !r.policies.length;

const merge = (...requirements: Requirement[]): Requirement => ({
  authenticated: requirements.some((r) => r.authenticated),
  scopes: requirements.flatMap((r) => r.scopes),
  policies: requirements.flatMap((r) => r.policies),
});

const stringMatrix = (value: unknown, where: string): string[][] => {
  if (
    !Array.isArray(value) ||
    !value.every((row) => Array.isArray(row) && row.every((s) => typeof s === "string"))
  )
    throw new Error(`${where}: expected a list of lists of strings`);
  return value as string[][];
};

/** The requirement the authorization directives among `directives` declare. */
export function requirementOf(
  directives: readonly ConstDirectiveNode[] | undefined,
  where = "directive",
): Requirement {
  let requirement = EMPTY;
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    const argument = (arg: string) => {
      const node = directive.arguments?.find((a) => a.name.value === arg);
      return node ? valueFromASTUntyped(node.value) : undefined;
    };
    if (name === "authenticated")
      requirement = merge(requirement, { ...EMPTY, authenticated: true });
    else if (name === "requiresScopes")
      requirement = merge(requirement, {
        ...EMPTY,
        scopes: [stringMatrix(argument("scopes"), `${where} @requiresScopes`)],
      });
    else if (name === "policy")
      requirement = merge(requirement, {
        ...EMPTY,
        policies: [stringMatrix(argument("policies"), `${where} @policy`)],
      });
  }
  return requirement;
}

const typeRequirement = (type: GraphQLNamedType): Requirement =>
  merge(
    requirementOf(type.astNode?.directives, type.name),
    ...(type.extensionASTNodes ?? []).map((node) => requirementOf(node.directives, type.name)),
  );

/** What resolving `parent.field` requires: its own directives, its type's and its parent's. */
function fieldRequirement(
  parent: GraphQLNamedType,
  field: GraphQLField<unknown, unknown>,
): Requirement {
  return merge(
    requirementOf(field.astNode?.directives, `${parent.name}.${field.name}`),
    typeRequirement(getNamedType(field.type)),
    typeRequirement(parent),
  );
}

/**
 * Wraps the resolver of every field that has a requirement (in place; returns the schema). A
 * field without one is left as it is: no cost where nothing is declared.
 */
export function enforceAuthorization(
  schema: GraphQLSchema,
  policies: Record<string, Policy> = {},
): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const requirement = fieldRequirement(type, field);
      if (isEmpty(requirement)) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      const what = `${type.name}.${field.name}`;
      // Policies are checked once at schema build (a typo fails the start, not a request).
      for (const alternatives of requirement.policies)
        for (const all of alternatives)
          for (const name of all)
            if (!policyNamed(name, policies))
              throw new Error(`${what}: @policy ${name} is not defined`);
      field.resolve = requirement.policies.length
        ? async (source, args, context, info) => {
            const ctx = context as PolicyContext;
            if (!allows(requirement, ctx.auth))
              throw new ForbiddenError(what, requirement, ctx.auth);
            if (!(await passesPolicies(requirement, policies, ctx, args)))
              throw new ForbiddenError(what, requirement, ctx.auth);
            return resolve(source, args, context, info);
          }
        : (source, args, context, info) => {
            const ctx = context as PolicyContext;
            if (!allows(requirement, ctx.auth))
              throw new ForbiddenError(what, requirement, ctx.auth);
            return resolve(source, args, context, info);
          };
    }
  }
  return schema;
}

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;

/**
 * The requirements of the root fields of `rootType` in an SDL (a subgraph's, or the composed
 * supergraph, which keeps the directives): field name → requirement, with the type-level
 * directives of the field's return type included. The gateway refuses subscriptions with it.
 */
export function requirementsOfSdl(
  sdl: string | DocumentNode,
  rootType = "Subscription",
): Map<string, Requirement> {
  const document = typeof sdl === "string" ? parse(sdl) : sdl;
  const objects = document.definitions.filter(
    (d): d is ObjectNode =>
      d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION,
  );
  const typeDirectives = (name: string) =>
    merge(
      ...objects.filter((o) => o.name.value === name).map((o) => requirementOf(o.directives, name)),
      EMPTY,
    );
  const result = new Map<string, Requirement>();
  for (const root of objects.filter((o) => o.name.value === rootType)) {
    for (const field of root.fields ?? []) {
      let type = field.type;
      while (type.kind !== Kind.NAMED_TYPE) type = type.type;
      result.set(
        field.name.value,
        merge(
          result.get(field.name.value) ?? EMPTY,
          requirementOf(field.directives, `${rootType}.${field.name.value}`),
          typeDirectives(type.name.value),
          typeDirectives(rootType),
        ),
      );
    }
  }
  return result;
}
