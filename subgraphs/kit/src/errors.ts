/**
 * GraphQL errors every subgraph raises, each with a SCREAMING_SNAKE `extensions.code`, and the
 * mapping from hub errors (DomainError from @pshub/db, Postgres SQLSTATEs) to them.
 */
import { unwrapResolverError } from "@apollo/server/errors";
import { DomainError, graphTypeName, isConnectionError } from "@pshub/db";
import { GraphQLError, type GraphQLFormattedError } from "graphql";

/** Bad arguments: malformed cursor, invalid id, conflicting paging arguments. */
export class BadUserInputError extends GraphQLError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code: "BAD_USER_INPUT", ...details } });
  }
}

/** A single fetch whose id names no row. */
export class NotFoundGraphQLError extends GraphQLError {
  constructor(entityType: string, id: string) {
    const type = graphTypeName(entityType);
    super(`${type} ${id} does not exist`, {
      extensions: { code: "NOT_FOUND", entityType: type, id },
    });
  }
}

/** A malformed HTTP request (bad JSON body, too large, wrong method). */
export class BadRequestError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: "BAD_REQUEST" } });
  }
}

/** SQLSTATEs that mean "the client sent something the database cannot read", not a server fault. */
const CLIENT_SQLSTATES = new Map<string, string>([
  ["22P02", "BAD_USER_INPUT"], // invalid_text_representation (e.g. a uuid that is not one)
  ["22007", "BAD_USER_INPUT"], // invalid_datetime_format
  ["22008", "BAD_USER_INPUT"], // datetime_field_overflow
  ["22003", "BAD_USER_INPUT"], // numeric_value_out_of_range
  ["22021", "BAD_USER_INPUT"], // character_not_in_repertoire (a NUL byte in text)
  ["22P05", "BAD_USER_INPUT"], // untranslatable_character (\u0000 in jsonb)
  ["23505", "CONFLICT"], // unique_violation
  ["23503", "VALIDATION_FAILED"], // foreign_key_violation
  ["23514", "VALIDATION_FAILED"], // check_violation
  ["40001", "CONFLICT"], // serialization_failure
]);

/** The Postgres error in a cause chain (drizzle wraps it in a "Failed query: …" error). */
function postgresError(error: unknown): { code: string; message: string } | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && "severity" in e) {
      return { code, message: String((e as { message?: unknown }).message) };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function findDomainError(error: unknown): DomainError | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (e instanceof DomainError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A validation error raised by a scalar's own check on a literal (`amount: "0.005"`,
 * `receivedOn: "2026-13-45"`) keeps the scalar's code, BAD_USER_INPUT, rather than the
 * GRAPHQL_VALIDATION_FAILED Apollo stamps on every validation error — the same code the value
 * gets as a variable. Used by the subgraphs' and the gateway's `formatError`.
 */
export function scalarInputError(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError | undefined {
  if (formatted.extensions?.code !== "GRAPHQL_VALIDATION_FAILED") return undefined;
  const original = (error as { originalError?: unknown } | null)?.originalError;
  if (!(original instanceof GraphQLError) || original.extensions.code !== "BAD_USER_INPUT") {
    return undefined;
  }
  return { ...formatted, extensions: { ...formatted.extensions, code: "BAD_USER_INPUT" } };
}

/**
 * Apollo `formatError`: DomainError → its code and details; a lost or refused database connection
 * → SERVICE_UNAVAILABLE with `retryable: true`; client-caused Postgres errors →
 * BAD_USER_INPUT / CONFLICT / VALIDATION_FAILED; anything else unexpected → INTERNAL_SERVER_ERROR
 * with a generic message (the detail is logged, not leaked).
 */
export function formatSubgraphError(
  formatted: GraphQLFormattedError,
  error: unknown,
  log?: (error: unknown) => void,
): GraphQLFormattedError {
  const scalar = scalarInputError(formatted, error);
  if (scalar) return scalar;
  const original = unwrapResolverError(error);
  const domain = findDomainError(original);
  if (domain) {
    return {
      ...formatted,
      message: domain.message,
      extensions: { ...domain.details, code: domain.code },
    };
  }
  if (isConnectionError(original)) {
    // The database is down or restarting: nothing the client did wrong; retry shortly.
    log?.(original);
    return {
      ...formatted,
      message: "the database is unavailable; retry shortly",
      extensions: { code: "SERVICE_UNAVAILABLE", retryable: true },
    };
  }
  const pg = postgresError(original);
  if (pg) {
    const code = CLIENT_SQLSTATES.get(pg.code);
    if (code) {
      // The database's own message (e.g. 'invalid input syntax for type uuid: "x"'), never the
      // SQL text of the failed query.
      return { ...formatted, message: pg.message, extensions: { code, sqlState: pg.code } };
    }
  }
  const code = formatted.extensions?.code;
  if (code === undefined || code === "INTERNAL_SERVER_ERROR") {
    log?.(original);
    const { stacktrace: _omit, ...extensions } = formatted.extensions ?? {};
    return {
      ...formatted,
      message: "Internal server error",
      extensions: { ...extensions, code: "INTERNAL_SERVER_ERROR" },
    };
  }
  return formatted;
}
