/**
 * Small builders for connection filters: each returns undefined when its input is absent, so a
 * ListSpec's `where` is just `and(...)` of them.
 *
 *   where: (f) => and(anyOf(customer.status, f.status), equalsId(customer.legalEntityId, f.legalEntityId, "legalEntityId"))
 */
import { pgArray } from "@pshub/db";
import { eq, gte, ilike, isNotNull, isNull, lte, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { BadUserInputError } from "./errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid uuid (any version). */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/** Throws BAD_USER_INPUT unless `value` is a uuid. */
export function assertUuid(value: string, argumentName = "id"): string {
  if (!isUuid(value)) {
    throw new BadUserInputError(
      `\`${argumentName}\` must be a uuid; got ${JSON.stringify(value)}`,
      {
        argumentName,
      },
    );
  }
  return value;
}

/**
 * The type a value is cast to for `column`: its SQL type, except that the serial pseudo-types
 * (`bigserial` keys of the outbox, inbox and audit log) are not castable and become their integer
 * types.
 */
export function castType(column: PgColumn): string {
  const type = column.getSQLType();
  const serial: Record<string, string> = {
    smallserial: "smallint",
    serial: "integer",
    bigserial: "bigint",
  };
  return serial[type] ?? type;
}

/**
 * `column = any($1::type[])` with the whole list as ONE bind value: the statement text is the
 * same whatever the list's length, so postgres.js prepares it once (IN ($1, …, $n) would prepare
 * a new statement per length). An empty list matches nothing.
 */
export function inList(column: PgColumn, values: readonly unknown[]): SQL {
  return sql`${column} = any(${pgArray(values)}::${sql.raw(castType(column))}[])`;
}

/**
 * {@link inList} with the list as a placeholder, for a statement built once
 * (./prepared.ts): bind it with `pgArray(values)`.
 */
export function inListPlaceholder(column: PgColumn, name: string): SQL {
  return sql`${column} = any(${sql.placeholder(name)}::${sql.raw(castType(column))}[])`;
}

/** column IN (values) when values are given; an empty list matches nothing. */
export function anyOf<T>(
  column: PgColumn,
  values: readonly T[] | null | undefined,
): SQL | undefined {
  return values == null ? undefined : inList(column, values);
}

export function equals<T>(column: PgColumn, value: T | null | undefined): SQL | undefined {
  return value == null ? undefined : eq(column, value);
}

/** column = id, after checking that id is a uuid (BAD_USER_INPUT otherwise). */
export function equalsId(
  column: PgColumn,
  id: string | null | undefined,
  argumentName: string,
): SQL | undefined {
  return id == null ? undefined : eq(column, assertUuid(id, argumentName));
}

export function atLeast<T>(column: PgColumn, value: T | null | undefined): SQL | undefined {
  return value == null ? undefined : gte(column, value);
}

export function atMost<T>(column: PgColumn, value: T | null | undefined): SQL | undefined {
  return value == null ? undefined : lte(column, value);
}

/** true → column IS NOT NULL, false → IS NULL. */
export function present(column: PgColumn, flag: boolean | null | undefined): SQL | undefined {
  if (flag == null) return undefined;
  return flag ? isNotNull(column) : isNull(column);
}

/** Case-insensitive substring match; % and _ in the text are literal. */
export function containsText(column: PgColumn, text: string | null | undefined): SQL | undefined {
  if (text == null || text === "") return undefined;
  return ilike(column, `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
}
