/**
 * Query limits, checked once the operation is known (after parsing and validation, before any
 * subgraph is called): depth, aliases and the number of fields after fragments are expanded.
 * A request over a limit gets HTTP 400 and one GraphQL error with a code naming the limit.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import {
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxFields: number;
  /** Estimated objects a query can return (see estimateRows). */
  maxRows: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxDepth: 24,
  maxAliases: 30,
  maxFields: 1500,
  maxRows: 100_000,
};

/** The subgraphs' page sizes (subgraphs/kit pagination): the default and the cap. */
const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/**
 * Estimates how many objects an operation can return: each connection field (a type named
 * …Connection) multiplies its parent's count by its page size (`first`/`last`, a literal or a
 * variable; 50 when absent; at most 500, as the subgraphs cap it). Nested pages multiply:
 * `invoices(first: 500) { nodes { lines(first: 500) } }` is 250,500 objects.
 */
export function estimateRows(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown> = {},
): number {
  const pageSize = (
    args: readonly { name: { value: string }; value: ValueNode }[] | undefined,
  ): number => {
    for (const arg of args ?? []) {
      if (arg.name.value !== "first" && arg.name.value !== "last") continue;
      const value =
        arg.value.kind === Kind.INT
          ? Number(arg.value.value)
          : arg.value.kind === Kind.VARIABLE
            ? Number(variables[arg.value.name.value] ?? Number.NaN)
            : Number.NaN;
      if (Number.isFinite(value)) return Math.max(0, Math.min(value, MAX_PAGE));
    }
    return DEFAULT_PAGE;
  };
  let total = 0;
  const visit = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLNamedType | undefined,
    rows: number,
    seen: Set<string>,
  ) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!selection.selectionSet) continue;
        const fields =
          parentType && (isObjectType(parentType) || isInterfaceType(parentType))
            ? parentType.getFields()
            : undefined;
        const type = fields?.[selection.name.value]
          ? getNamedType(fields[selection.name.value]?.type)
          : undefined;
        const childRows = type?.name.endsWith("Connection")
          ? rows * pageSize(selection.arguments)
          : rows;
        total += childRows;
        visit(selection.selectionSet, type, childRows, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? (schema.getType(selection.typeCondition.name.value) ?? undefined)
          : parentType;
        visit(selection.selectionSet, type, rows, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments[name];
        if (!fragment || seen.has(name)) continue;
        visit(
          fragment.selectionSet,
          schema.getType(fragment.typeCondition.name.value) ?? undefined,
          rows,
          new Set(seen).add(name),
        );
      }
    }
  };
  const root =
    operation.operation === "query"
      ? schema.getQueryType()
      : operation.operation === "mutation"
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  visit(operation.selectionSet, root ?? undefined, 1, new Set());
  return total;
}

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

export function checkLimits(
  cost: OperationCost & { rows?: number },
  limits: QueryLimits,
): QueryLimitError | undefined {
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
  if (cost.rows !== undefined && cost.rows > limits.maxRows) {
    return new QueryLimitError(
      "QUERY_TOO_COMPLEX",
      `query can return about ${cost.rows} objects (nested page sizes multiply); the maximum is ${limits.maxRows}: ask for smaller pages and page on with after`,
      limits.maxRows,
      cost.rows,
    );
  }
  return undefined;
}

export function queryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, schema }) {
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
          const cost = measureOperation(operation, fragments);
          const error = checkLimits(
            { ...cost, rows: estimateRows(schema, operation, fragments, request.variables ?? {}) },
            limits,
          );
          if (error) throw error;
        },
      };
    },
  };
}
