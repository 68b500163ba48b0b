/**
 * The gateway's `formatError`: a scalar's refusal of a literal keeps its BAD_USER_INPUT (see
 * @pshub/subgraph-kit `scalarInputError`), and no message carries terminal colour codes (some
 * libraries format values with util.inspect's colours).
 */
import { stripVTControlCharacters } from "node:util";
import { scalarInputError } from "@pshub/subgraph-kit";
import type { GraphQLFormattedError } from "graphql";

export function formatGatewayError(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError {
  const result = scalarInputError(formatted, error) ?? formatted;
  const message = stripVTControlCharacters(result.message);
  return message === result.message ? result : { ...result, message };
}
