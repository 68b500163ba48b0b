/**
 * Document limits: what a GraphQL document may cost, checked on the parsed document alone,
 * BEFORE it is validated. graphql-js's validation is quadratic in repeated fields (its
 * OverlappingFieldsCanBeMerged rule compares every pair of fields with one response name:
 * 10,000 `id` fields take ~12 s, 1,500 ~0.3 s), so no document reaches it unless these
 * cheap checks passed. Each check is linear in the document:
 *
 * - tokens: graphql-js `parse(…, { maxTokens })` stops the parser itself at the limit;
 * - fragment definitions: counted;
 * - depth, aliases and directives: graphql-armor's rules (they walk each fragment once);
 * - fields, fragments expanded: counted here, each fragment once (memoised), and the count stops
 *   as soon as it passes the limit (a document of 24 fragments each spreading the next twice
 *   expands to 2^24 fields; it is refused after a few hundred steps).
 *
 * Used by the gateway (HTTP and WebSocket) and by every subgraph (a subgraph reached directly
 * must not run what the gateway would refuse).
 */
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLBoolean,
  GraphQLError,
  GraphQLObjectType,
  GraphQLSchema,
  Kind,
  parse,
  type SelectionSetNode,
  validate,
} from "graphql";
import { LRUCache } from "lru-cache";

export interface DocumentLimits {
  /** Lexical tokens in the document (graphql-js `maxTokens`). */
  maxTokens: number;
  /** Nesting of fields (fragments add no depth of their own). */
  maxDepth: number;
  maxAliases: number;
  /** Directives used anywhere in an operation, fragments expanded. */
  maxDirectives: number;
  /** Fields of the largest operation or fragment, fragments expanded where they are spread. */
  maxFields: number;
  /** Fragment definitions in the document. */
  maxFragments: number;
}

/**
 * A subgraph's limits. Looser than the gateway's (gateway/src/limits.ts): the gateway's query
 * planner adds key fields, `__typename`s, aliases and an `_entities` level to what a client
 * sent, and a subgraph must never refuse a plan the gateway made; these only stop documents no
 * plan produces.
 */
export const SUBGRAPH_DOCUMENT_LIMITS: DocumentLimits = {
  maxTokens: 30_000,
  maxDepth: 40,
  maxAliases: 200,
  maxDirectives: 200,
  maxFields: 2_000,
  maxFragments: 300,
};

/** A document over a limit: `extensions.code` names the limit; `limit` and `actual` say by how much. */
export class QueryLimitError extends GraphQLError {
  constructor(code: string, message: string, limit: number, actual: number) {
    super(message, { extensions: { code, limit, actual, http: { status: 400 } } });
  }
}

const TOKEN_LIMIT_MESSAGE = /tokens\. Parsing aborted\.$/;

/**
 * Parses within the token limit. Throws a {@link QueryLimitError} (TOO_MANY_TOKENS) past it and
 * graphql-js's own GraphQLError on a syntax error.
 */
export function parseWithinLimits(
  source: string,
  limits: Pick<DocumentLimits, "maxTokens">,
  options: { noLocation?: boolean } = {},
): DocumentNode {
  try {
    return parse(source, { maxTokens: limits.maxTokens, noLocation: options.noLocation });
  } catch (error) {
    if (error instanceof GraphQLError && TOKEN_LIMIT_MESSAGE.test(error.message)) {
      throw new QueryLimitError(
        "TOO_MANY_TOKENS",
        `the document has more than ${limits.maxTokens} tokens; the maximum is ${limits.maxTokens}`,
        limits.maxTokens,
        limits.maxTokens + 1,
      );
    }
    throw error;
  }
}

/**
 * The door check for a source text: a limit error, or undefined when the document is within
 * every limit — or does not parse, which the server's own parser then reports as it always does.
 */
export function checkSource(source: string, limits: DocumentLimits): QueryLimitError | undefined {
  let document: DocumentNode;
  try {
    document = parseWithinLimits(source, limits, { noLocation: true });
  } catch (error) {
    if (error instanceof QueryLimitError) return error;
    return undefined;
  }
  return checkDocument(document, limits);
}

/** graphql-armor's rules run through graphql-js `validate` on their own; they need a schema, not ours. */
const MEASURING_SCHEMA = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Query", fields: { _: { type: GraphQLBoolean } } }),
});

/** Depth, aliases and directives of the document's largest operation, measured by graphql-armor. */
export function measureWithArmor(document: DocumentNode): {
  depth: number;
  aliases: number;
  directives: number;
} {
  const measured = { depth: 0, aliases: 0, directives: 0 };
  // An infinite limit: armor measures and reports through onAccept; the limits are ours.
  const keep = (key: keyof typeof measured) => [
    (_context: unknown, details: { n: number }) => {
      measured[key] = Math.max(measured[key], details.n);
    },
  ];
  validate(MEASURING_SCHEMA, document, [
    maxDepthRule({
      n: Number.POSITIVE_INFINITY,
      flattenFragments: true,
      // Introspection is no cheaper to nest deeply than anything else.
      ignoreIntrospection: false,
      onAccept: keep("depth"),
    }),
    maxAliasesRule({ n: Number.POSITIVE_INFINITY, allowList: [], onAccept: keep("aliases") }),
    maxDirectivesRule({ n: Number.POSITIVE_INFINITY, onAccept: keep("directives") }),
  ]);
  return measured;
}

class CountExceeded {
  constructor(readonly count: number) {}
}

/**
 * Fields of the largest operation or fragment definition, fragments expanded where they are
 * spread. Each fragment is counted once (memoised); the count stops once it passes `max` and
 * then returns a number above `max` (not the full count). Cycles and unknown fragments count 0:
 * validation refuses them.
 */
export function countFields(document: DocumentNode, max = Number.POSITIVE_INFINITY): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const memo = new Map<string, number>();
  const inProgress = new Set<string>();
  const fragmentFields = (name: string): number => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || inProgress.has(name)) return 0;
    inProgress.add(name);
    const count = selectionFields(fragment.selectionSet);
    inProgress.delete(name);
    memo.set(name, count);
    return count;
  };
  const selectionFields = (selectionSet: SelectionSetNode): number => {
    let count = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        count += 1;
        if (selection.selectionSet) count += selectionFields(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        count += selectionFields(selection.selectionSet);
      } else {
        count += fragmentFields(selection.name.value);
      }
      if (count > max) throw new CountExceeded(count);
    }
    return count;
  };
  let largest = 0;
  try {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION) {
        largest = Math.max(largest, selectionFields(definition.selectionSet));
      } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        largest = Math.max(largest, fragmentFields(definition.name.value));
      }
    }
  } catch (error) {
    if (error instanceof CountExceeded) return error.count;
    throw error;
  }
  return largest;
}

/** Every document limit but tokens (see {@link parseWithinLimits}), cheapest first. */
export function checkDocument(
  document: DocumentNode,
  limits: DocumentLimits,
): QueryLimitError | undefined {
  let fragmentCount = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragmentCount++;
  }
  if (fragmentCount > limits.maxFragments) {
    return new QueryLimitError(
      "TOO_MANY_FRAGMENTS",
      `the document defines ${fragmentCount} fragments; the maximum is ${limits.maxFragments}`,
      limits.maxFragments,
      fragmentCount,
    );
  }
  const { depth, aliases, directives } = measureWithArmor(document);
  if (depth > limits.maxDepth) {
    return new QueryLimitError(
      "QUERY_TOO_DEEP",
      `query depth ${depth} exceeds the maximum of ${limits.maxDepth}`,
      limits.maxDepth,
      depth,
    );
  }
  if (aliases > limits.maxAliases) {
    return new QueryLimitError(
      "TOO_MANY_ALIASES",
      `query uses ${aliases} aliases; the maximum is ${limits.maxAliases}`,
      limits.maxAliases,
      aliases,
    );
  }
  if (directives > limits.maxDirectives) {
    return new QueryLimitError(
      "TOO_MANY_DIRECTIVES",
      `query uses ${directives} directives (fragments expanded); the maximum is ${limits.maxDirectives}`,
      limits.maxDirectives,
      directives,
    );
  }
  const fields = countFields(document, limits.maxFields);
  if (fields > limits.maxFields) {
    return new QueryLimitError(
      "QUERY_TOO_COMPLEX",
      `query selects more than ${limits.maxFields} fields (fragments expanded); the maximum is ${limits.maxFields}`,
      limits.maxFields,
      fields,
    );
  }
  return undefined;
}

/** Checks source texts at a server's door; see {@link createDocumentGuard}. */
export interface DocumentGuard {
  readonly limits: DocumentLimits;
  /** A limit error for the source, or undefined (within the limits, or a syntax error). */
  check(source: string): QueryLimitError | undefined;
}

/**
 * {@link checkSource} with a memory of the sources that passed: clients send the same few
 * documents again and again, and a passed document costs one map look-up the next time. The
 * memory is capped by bytes (only sources up to 64 KB are kept) and forgets the least used first.
 */
export function createDocumentGuard(
  limits: DocumentLimits,
  options: { cacheBytes?: number } = {},
): DocumentGuard {
  const maxSize = options.cacheBytes ?? 4_000_000;
  const passed = new LRUCache<string, true>({
    maxSize,
    maxEntrySize: Math.min(64_000, maxSize),
    // A source string: its characters (one or two bytes each) and the entry's own overhead.
    sizeCalculation: (_value, key) => key.length * 2 + 100,
  });
  return {
    limits,
    check(source) {
      if (passed.has(source)) return undefined;
      const error = checkSource(source, limits);
      if (!error) passed.set(source, true);
      return error;
    },
  };
}
