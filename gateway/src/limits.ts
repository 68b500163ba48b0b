/**
 * The gateway's query limits. Two stages:
 *
 * 1. At the door, before Apollo parses or validates anything: the document limits of
 *    @pshub/subgraph-kit/limits (tokens, fragments, depth, aliases, directives, fields) —
 *    `createDocumentGuard(limits)`, used by the HTTP handler and the WebSocket server. Validation
 *    is quadratic in repeated fields, so nothing reaches it unless these passed.
 * 2. Once the operation is known (after validation, before any subgraph is called): the estimate
 *    of returned objects, which needs the schema (which fields are connections) and the variables
 *    (page sizes) — {@link queryLimitsPlugin}.
 *
 * A request over a limit gets one GraphQL error whose code names the limit (see README).
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { type DocumentLimits, QueryLimitError } from "@pshub/subgraph-kit/limits";
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

export { QueryLimitError };

export interface QueryLimits extends DocumentLimits {
  /** Estimated objects a query can return (see estimateRows). */
  maxRows: number;
}

/**
 * The defaults. `maxFields` bounds what validation can cost: graphql-js compares every pair of
 * same-named fields, so its time grows with their square (10,000 copies of one field took 12.5 s:
 * 1,500 take ~0.3 s, 500 ~30 ms).
 */
export const DEFAULT_LIMITS: QueryLimits = {
  maxTokens: 10_000,
  maxDepth: 24,
  maxAliases: 30,
  maxDirectives: 50,
  maxFields: 500,
  maxFragments: 100,
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
 *
 * A fragment's objects are proportional to its parent's count, so each fragment is walked once
 * (per operation) and its count per parent object is remembered: linear in the document, however
 * often fragments spread each other.
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
  /** Objects per parent object, per fragment. */
  const perFragment = new Map<string, number>();
  const inProgress = new Set<string>();
  const fragmentRows = (name: string): number => {
    const known = perFragment.get(name);
    if (known !== undefined) return known;
    const fragment = fragments[name];
    // Validation has already refused unknown fragments and cycles; this only guards a bug there.
    if (!fragment || inProgress.has(name)) return 0;
    inProgress.add(name);
    const rows = visit(
      fragment.selectionSet,
      schema.getType(fragment.typeCondition.name.value) ?? undefined,
    );
    inProgress.delete(name);
    perFragment.set(name, rows);
    return rows;
  };
  /** Objects below one object of `parentType` selected with `selectionSet`. */
  const visit = (
    selectionSet: SelectionSetNode,
    parentType: GraphQLNamedType | undefined,
  ): number => {
    let total = 0;
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
        const childRows = type?.name.endsWith("Connection") ? pageSize(selection.arguments) : 1;
        total += childRows * (1 + visit(selection.selectionSet, type));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? (schema.getType(selection.typeCondition.name.value) ?? undefined)
          : parentType;
        total += visit(selection.selectionSet, type);
      } else {
        total += fragmentRows(selection.name.value);
      }
    }
    return total;
  };
  const root =
    operation.operation === "query"
      ? schema.getQueryType()
      : operation.operation === "mutation"
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  return visit(operation.selectionSet, root ?? undefined);
}

/** Refuses an operation that can return more than `limits.maxRows` objects. */
export function checkRows(
  rows: number,
  limits: Pick<QueryLimits, "maxRows">,
): QueryLimitError | undefined {
  if (rows <= limits.maxRows) return undefined;
  return new QueryLimitError(
    "QUERY_TOO_COMPLEX",
    `query can return about ${rows} objects (nested page sizes multiply); the maximum is ${limits.maxRows}: ask for smaller pages and page on with after`,
    limits.maxRows,
    rows,
  );
}

/**
 * After validation: an operation that names none of the document's operations is bad input
 * (OPERATION_RESOLUTION_FAILURE), and one that can return too many objects is QUERY_TOO_COMPLEX.
 */
export function queryLimitsPlugin(limits: Pick<QueryLimits, "maxRows">): ApolloServerPlugin {
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
          const error = checkRows(
            estimateRows(schema, operation, fragments, request.variables ?? {}),
            limits,
          );
          if (error) throw error;
        },
      };
    },
  };
}
