/**
 * Text Postgres cannot store (NUL, lone surrogates; see @pshub/db `findMalformedText`) in a
 * query's variables or string literals is refused as BAD_USER_INPUT before any resolver runs —
 * a filter, a cursor or an id with a NUL in it never reaches SQL. Mutations are left to the
 * lifecycle operations, which refuse the same text and audit the refusal.
 */
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { findMalformedText } from "@pshub/db";
import { type DocumentNode, visit } from "graphql";
import { BadUserInputError } from "./errors.ts";

/**
 * Per parsed document (Apollo keeps one parsed document per query text in its document store, so
 * the same query text is walked once, not on every request).
 */
const literalChecks = new WeakMap<DocumentNode, string | null>();

/** The first malformed string literal of a document, as an error message. */
function malformedLiteral(document: DocumentNode): string | undefined {
  const known = literalChecks.get(document);
  if (known !== undefined) return known ?? undefined;
  let message: string | undefined;
  visit(document, {
    StringValue(node) {
      const found = message ? undefined : findMalformedText(node.value, "a string literal");
      if (found) message = found.message;
    },
  });
  literalChecks.set(document, message ?? null);
  return message;
}

/**
 * A request error's HTTP status under GraphQL over HTTP: 4xx only for a client that accepts
 * application/graphql-response+json and not application/json (the gateway sends no Accept, and
 * reads a 200). Without it Apollo answers an error thrown by a plugin with 500.
 */
function requestErrorStatus(accept: string | undefined): number {
  const wanted = accept ?? "";
  return wanted.includes("application/graphql-response+json") &&
    !wanted.includes("application/json")
    ? 400
    : 200;
}

export const malformedTextPlugin: ApolloServerPlugin<BaseContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, request, document }) {
        if (operation?.operation === "mutation") return;
        const variable = findMalformedText(request.variables ?? {}, "");
        const literal = variable ? undefined : malformedLiteral(document);
        if (!variable && !literal) return;
        const http = { status: requestErrorStatus(request.http?.headers.get("accept")) };
        throw variable
          ? new BadUserInputError(
              variable.message.replace(/^(\S+)/, (path) => `variable $${path}`),
              { field: variable.path, reason: variable.problem, http },
            )
          : new BadUserInputError(literal!, { reason: "MALFORMED_TEXT", http });
      },
    };
  },
};
