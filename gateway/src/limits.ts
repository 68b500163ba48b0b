/**
 * Query limits, checked once the operation is known (after parsing and validation, before any
 * subgraph is called): depth, aliases and the number of fields after fragments are expanded.
 * A request over a limit gets HTTP 400 and one GraphQL error with a code naming the limit.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import {
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxFields: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 24, maxAliases: 30, maxFields: 1500 };

export interface OperationCost {
  depth: number;
  aliases: number;
  fields: number;
}

/** Measures an operation; fragments are expanded where they are spread. */
export function measureOperation(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
): OperationCost {
  const cost: OperationCost = { depth: 0, aliases: 0, fields: 0 };
  const visit = (selectionSet: SelectionSetNode, depth: number, seen: Set<string>): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        cost.fields += 1;
        if (selection.alias) cost.aliases += 1;
        if (depth > cost.depth) cost.depth = depth;
        if (selection.selectionSet) visit(selection.selectionSet, depth + 1, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, depth, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments[name];
        // Validation has already rejected fragment cycles; `seen` only guards against a bug there.
        if (!fragment || seen.has(name)) continue;
        visit(fragment.selectionSet, depth, new Set(seen).add(name));
      }
    }
  };
  visit(operation.selectionSet, 1, new Set());
  return cost;
}

export class QueryLimitError extends GraphQLError {
  constructor(code: string, message: string, limit: number, actual: number) {
    super(message, { extensions: { code, limit, actual, http: { status: 400 } } });
  }
}

export function checkLimits(cost: OperationCost, limits: QueryLimits): QueryLimitError | undefined {
  if (cost.depth > limits.maxDepth) {
    return new QueryLimitError(
      "QUERY_TOO_DEEP",
      `query depth ${cost.depth} exceeds the maximum of ${limits.maxDepth}`,
      limits.maxDepth,
      cost.depth,
    );
  }
  if (cost.aliases > limits.maxAliases) {
    return new QueryLimitError(
      "TOO_MANY_ALIASES",
      `query uses ${cost.aliases} aliases; the maximum is ${limits.maxAliases}`,
      limits.maxAliases,
      cost.aliases,
    );
  }
  if (cost.fields > limits.maxFields) {
    return new QueryLimitError(
      "QUERY_TOO_COMPLEX",
      `query selects ${cost.fields} fields (fragments expanded); the maximum is ${limits.maxFields}`,
      limits.maxFields,
      cost.fields,
    );
  }
  return undefined;
}

export function queryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) {
            // @apollo/gateway would throw inside its executor (an HTTP 500); this is bad input.
            throw new GraphQLError(
              request.operationName
                ? `unknown operation named "${request.operationName}"`
                : "the document holds several operations: set operationName to pick one",
              { extensions: { code: "OPERATION_RESOLUTION_FAILURE", http: { status: 400 } } },
            );
          }
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const definition of document.definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION) {
              fragments[definition.name.value] = definition;
            }
          }
          const error = checkLimits(measureOperation(operation, fragments), limits);
          if (error) throw error;
        },
      };
    },
  };
}
