/**
 * The shared scalars. Decimal is a string on the wire (money is never a float), Date is
 * YYYY-MM-DD, DateTime is ISO-8601.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";

const DECIMAL_INPUT = /^-?\d+(\.\d{1,2})?$/;
const DECIMAL_OUTPUT = /^-?\d+(\.\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
}

function parseDecimal(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return String(value);
    throw badInput(
      Number.isFinite(value)
        ? `Decimal cannot be a fractional or unsafe JSON number (${value}); send it as a string, e.g. "12.50"`
        : `Decimal must be a finite number, sent as a string, e.g. "12.50"; got ${value}`,
    );
  }
  if (typeof value === "string" && DECIMAL_INPUT.test(value)) return value;
  throw badInput(
    `Decimal must be a string with at most 2 decimal places, e.g. "1234.50"; got ${JSON.stringify(value)}`,
  );
}

export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: "Decimal",
  description:
    'An exact decimal number, serialized as a string (e.g. "1234.50"); never a float. Input takes a string with up to 2 decimal places or an integer.',
  serialize(value) {
    if (typeof value === "string" && DECIMAL_OUTPUT.test(value)) return value;
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
    throw new GraphQLError(`Decimal cannot represent ${JSON.stringify(String(value))}`);
  },
  parseValue: parseDecimal,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.STRING) return parseDecimal(ast.value);
    if (ast.kind === Kind.INT) return parseDecimal(ast.value);
    throw badInput(
      `Decimal must be a string literal, e.g. "1234.50"; got ${ast.kind === Kind.FLOAT ? ast.value : ast.kind}`,
    );
  },
});

function parseDate(value: unknown): string {
  if (typeof value === "string") {
    const m = DATE.exec(value);
    if (m) {
      const d = new Date(`${value}T00:00:00Z`);
      if (!Number.isNaN(d.getTime()) && d.toISOString().startsWith(value)) return value;
    }
  }
  throw badInput(`Date must be a calendar date YYYY-MM-DD; got ${JSON.stringify(value)}`);
}

export const DateScalar = new GraphQLScalarType<string, string>({
  name: "Date",
  description: "A calendar date, YYYY-MM-DD (no time zone).",
  serialize(value) {
    if (typeof value === "string" && DATE.test(value)) return value;
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    throw new GraphQLError(`Date cannot represent ${JSON.stringify(String(value))}`);
  },
  parseValue: parseDate,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.STRING) return parseDate(ast.value);
    throw badInput("Date must be a string literal YYYY-MM-DD");
  },
});

function parseDateTime(value: unknown): Date {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw badInput(
    `DateTime must be an ISO-8601 timestamp, e.g. 2026-11-25T20:00:00Z; got ${JSON.stringify(value)}`,
  );
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "An instant, ISO-8601 with time zone (e.g. 2026-11-25T20:00:00.000Z).",
  serialize(value) {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
    if (typeof value === "string") return parseDateTime(value.replace(" ", "T")).toISOString();
    throw new GraphQLError(`DateTime cannot represent ${JSON.stringify(String(value))}`);
  },
  parseValue: parseDateTime,
  parseLiteral(ast: ValueNode) {
    if (ast.kind === Kind.STRING) return parseDateTime(ast.value);
    throw badInput("DateTime must be a string literal");
  },
});

/**
 * Resolver-map entries for the three scalars; spread into every subgraph's resolvers, and
 * installed by the gateway into its API schema (so a bad value is refused before any subgraph).
 */
export const scalarResolvers = {
  Decimal: DecimalScalar,
  Date: DateScalar,
  DateTime: DateTimeScalar,
};
