/**
 * Turning one domain event into one subscription result.
 *
 * The client's subscription document is executed by graphql-js against a copy of the API schema
 * whose Subscription and event-type fields read the event, and whose entity field (`invoice`,
 * `project`, …) runs the client's selection under it as a federated query through the gateway:
 * `query($__id: ID!, …used variables) { __entity: invoice(id: $__id) { …selection } }` plus the
 * fragments it uses. Below the entity, values are read by response key, so aliases, fragments,
 * variables, @include and @skip mean what the gateway made of them.
 *
 * Sharing: results are cached per (event, document, variables, scope) and entity fetches per
 * (event, entity selection, used variables, scope), as promises, so N identical subscribers cost
 * one execution and one federated fetch per event.
 *
 * A failed entity fetch (a subgraph down or restarting) is retried with backoff
 * (ENTITY_RETRY_DELAYS_MS); while fetches keep failing, later events retry once, not with the
 * whole backoff, so the stream does not stall behind an outage. If it still fails, the event is
 * delivered anyway — its own fields, `eventId` included — with the entity null and a retryable
 * SERVICE_UNAVAILABLE error at the entity's path; nothing is cached for it, so a resubscribe with
 * `afterEventId` fetches it again.
 */

import { createHash } from "node:crypto";
import type { Principal } from "@pshub/db";
import type { DomainEventRecord, EventFacts } from "@pshub/db/outbox";
import {
  buildSchema,
  type DocumentNode,
  type ExecutionResult,
  execute,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLFormattedError,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  printSchema,
  type SelectionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
  visit,
} from "graphql";
import { SUBSCRIPTION_FIELDS, type SubscriptionField } from "./fields.ts";

/** Runs an operation through the gateway's own executor (planning, limits, forwarding). */
export type FederatedExecutor = (request: {
  query: DocumentNode;
  variables: Record<string, unknown>;
  principal: Principal;
}) => Promise<{ data?: Record<string, unknown> | null; errors?: readonly GraphQLFormattedError[] }>;

/** The event object a Subscription field resolves to. */
export interface EventValue {
  eventId: string;
  type: string;
  occurredAt: string;
  previousStatus: string | null;
  status: string | null;
  /** Not a schema field: what the entity resolver fetches. */
  entityId: string;
  eventNumber: number;
}

interface ExecContext {
  principal: Principal;
  scope: string;
  event: EventValue;
  fetchEntity(info: GraphQLResolveInfo, field: SubscriptionField): Promise<unknown>;
  extraErrors: GraphQLError[];
}

const ENTITY_ALIAS = "__entity";

/** Waits before each retry of a failed entity fetch (≈1.75 s in all). */
export const ENTITY_RETRY_DELAYS_MS = [250, 500, 1000];

/** Errors that say the request itself is refused: fetching again gives the same answer. */
const FINAL_CODES = new Set([
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "FORBIDDEN",
  "UNAUTHENTICATED",
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
  "QUERY_TOO_DEEP",
  "QUERY_TOO_COMPLEX",
  "TOO_MANY_ALIASES",
]);

type EntityResponse = {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
};

/** A response worth fetching again: errors, none of which is a refusal of the request itself. */
function failed(response: EntityResponse): boolean {
  const errors = response.errors ?? [];
  return (
    errors.length > 0 && errors.every((e) => !FINAL_CODES.has(String(e.extensions?.code ?? "")))
  );
}

/** Below the entity, every value was produced by the gateway and is keyed by response key. */
const byResponseKey: GraphQLFieldResolver<unknown, unknown> = (source, _args, _ctx, info) =>
  source && typeof source === "object"
    ? (source as Record<string, unknown>)[String(info.path.key)]
    : undefined;

const typeFromValue = (value: unknown) =>
  value && typeof value === "object" ? (value as { __typename?: string }).__typename : undefined;

/**
 * A copy of the API schema with resolvers for the subscription fields and their event types.
 * A copy, because the gateway's schema object is Apollo's.
 */
export function buildExecutionSchema(apiSchema: GraphQLSchema): GraphQLSchema {
  const schema = buildSchema(printSchema(apiSchema));
  const subscription = schema.getSubscriptionType();
  if (!subscription) return schema;
  for (const [name, field] of Object.entries(subscription.getFields())) {
    const spec = SUBSCRIPTION_FIELDS[name];
    if (!spec) continue;
    field.resolve = (root) => (root as Record<string, unknown>)[name];
    const eventType = field.type;
    const named = "ofType" in eventType ? eventType.ofType : eventType;
    if (!isObjectType(named)) continue;
    for (const [fieldName, eventField] of Object.entries(named.getFields())) {
      eventField.resolve =
        fieldName === spec.entityField
          ? (_source, _args, ctx: ExecContext, info) => ctx.fetchEntity(info, spec)
          : (source) => (source as Record<string, unknown>)[fieldName];
    }
  }
  return schema;
}

interface EntityQuery {
  document: DocumentNode;
  /** Variables of the client operation that the entity query uses. */
  variableNames: string[];
  key: string;
}

const entityQueries = new WeakMap<OperationDefinitionNode, Map<string, EntityQuery>>();

/** `{ __entity: <queryField>(id: $__id) { <the client's selection> } }` + used fragments. */
function entityQueryFor(info: GraphQLResolveInfo, queryField: string): EntityQuery {
  const pathKey = `${info.parentType.name}.${String(info.path.key)}`;
  let perOperation = entityQueries.get(info.operation);
  const cached = perOperation?.get(pathKey);
  if (cached) return cached;

  const selections: SelectionNode[] = info.fieldNodes.flatMap(
    (node: FieldNode) => node.selectionSet?.selections ?? [],
  );
  const fragmentNames = new Set<string>();
  const variableNames = new Set<string>();
  const collect = (node: SelectionSetNode | FragmentDefinitionNode) => {
    visit(node, {
      FragmentSpread(spread) {
        if (fragmentNames.has(spread.name.value)) return;
        fragmentNames.add(spread.name.value);
        const fragment = info.fragments[spread.name.value];
        if (fragment) collect(fragment);
      },
      Variable(variable) {
        variableNames.add(variable.name.value);
      },
    });
  };
  const selectionSet: SelectionSetNode = { kind: Kind.SELECTION_SET, selections };
  collect(selectionSet);
  // Every field also drops its directives' variables in variableNames via the visit above.
  const typename: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: "__typename" } };
  const withTypename = <T extends SelectionSetNode | FragmentDefinitionNode>(node: T): T =>
    visit(node, {
      SelectionSet: {
        leave(set: SelectionSetNode) {
          return { ...set, selections: [...set.selections, typename] };
        },
      },
    });

  const variableDefinitions: VariableDefinitionNode[] = [
    {
      kind: Kind.VARIABLE_DEFINITION,
      variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: "__id" } },
      type: {
        kind: Kind.NON_NULL_TYPE,
        type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: "ID" } },
      },
    },
    ...(info.operation.variableDefinitions ?? []).filter((d) =>
      variableNames.has(d.variable.name.value),
    ),
  ];
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: "query" as OperationDefinitionNode["operation"],
    name: { kind: Kind.NAME, value: "PshubSubscriptionEntity" },
    variableDefinitions,
    selectionSet: {
      kind: Kind.SELECTION_SET,
      selections: [
        {
          kind: Kind.FIELD,
          alias: { kind: Kind.NAME, value: ENTITY_ALIAS },
          name: { kind: Kind.NAME, value: queryField },
          arguments: [
            {
              kind: Kind.ARGUMENT,
              name: { kind: Kind.NAME, value: "id" },
              value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: "__id" } },
            },
          ],
          selectionSet: withTypename(selectionSet),
        },
      ],
    },
  };
  const fragments = [...fragmentNames]
    .map((name) => info.fragments[name])
    .filter((f): f is FragmentDefinitionNode => f !== undefined)
    .map(withTypename);
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] };
  const query: EntityQuery = {
    document,
    variableNames: [...variableNames],
    // A hash of the selection: the entity cache keeps its keys after the subscription ends.
    key: createHash("sha256")
      .update(JSON.stringify(document, (k, v) => (k === "loc" ? undefined : v)))
      .digest("base64"),
  };
  if (!perOperation) {
    perOperation = new Map();
    entityQueries.set(info.operation, perOperation);
  }
  perOperation.set(pathKey, query);
  return query;
}

/** A bounded map of promises, oldest first out. */
class PromiseCache<T> {
  private readonly map = new Map<string, Promise<T>>();
  constructor(private readonly max: number) {}
  delete(key: string): void {
    this.map.delete(key);
  }
  getOrCreate(key: string, create: () => Promise<T>): { value: Promise<T>; created: boolean } {
    const found = this.map.get(key);
    if (found) return { value: found, created: false };
    const value = create();
    this.map.set(key, value);
    value.catch(() => this.map.delete(key));
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    return { value, created: true };
  }
}

export interface ExecutorStats {
  /** graphql-js executions of subscription documents (after sharing). */
  executions: number;
  /** Federated queries sent through the gateway (after sharing). */
  federatedFetches: number;
  /** Results served from the shared cache instead of executing again. */
  sharedResults: number;
}

/** A subscription as the engine sees it (parsed and validated at subscribe time). */
export interface PreparedSubscription {
  document: DocumentNode;
  operationName?: string | null;
  variables: Record<string, unknown>;
  principal: Principal;
  scope: string;
  fieldName: string;
  field: SubscriptionField;
  /** (document, variables, scope): identical subscriptions share results. */
  key: string;
}

/** One result and its JSON, serialised once for every subscriber that shares it. */
export interface SharedResult {
  result: ExecutionResult;
  json: string;
}

export class EventExecutor {
  private schema: GraphQLSchema;
  private readonly results = new PromiseCache<SharedResult>(20_000);
  private readonly entities = new PromiseCache<EntityResponse>(20_000);
  /** The last entity fetch failed after its retries: the next ones retry once until one succeeds. */
  private degraded = false;
  readonly stats: ExecutorStats = { executions: 0, federatedFetches: 0, sharedResults: 0 };

  constructor(
    apiSchema: GraphQLSchema,
    private readonly federated: FederatedExecutor,
  ) {
    this.schema = buildExecutionSchema(apiSchema);
  }

  setSchema(apiSchema: GraphQLSchema): void {
    this.schema = buildExecutionSchema(apiSchema);
  }

  /** The event as the subscription field's value, or undefined when it has no entity. */
  eventValue(
    sub: PreparedSubscription,
    event: DomainEventRecord,
    facts: EventFacts,
  ): EventValue | undefined {
    const entityId = sub.field.entityId(event, facts);
    if (!entityId) return undefined;
    const status = sub.field.status(event, facts);
    return {
      eventId: String(event.id),
      eventNumber: event.id,
      type: event.type,
      occurredAt: event.occurredAt,
      previousStatus: status.previous ?? null,
      status: status.current ?? null,
      entityId,
    };
  }

  /** The result of `sub` for `event`, shared with every identical subscription. */
  result(sub: PreparedSubscription, event: EventValue): Promise<SharedResult> {
    const key = `${event.eventId}|${sub.key}`;
    const { value, created } = this.results.getOrCreate(key, () =>
      this.run(sub, event).then((result) => {
        // A result with an unavailable entity is not kept: a resubscriber fetches it again.
        if (result.errors?.some((e) => e.extensions?.retryable === true)) {
          queueMicrotask(() => this.results.delete(key));
        }
        return { result, json: JSON.stringify(result) };
      }),
    );
    if (!created) this.stats.sharedResults++;
    return value;
  }

  /** One federated fetch, retried with backoff while it fails (one quick retry while degraded). */
  private async fetchWithRetries(run: () => Promise<EntityResponse>): Promise<EntityResponse> {
    const delays = this.degraded ? ENTITY_RETRY_DELAYS_MS.slice(0, 1) : ENTITY_RETRY_DELAYS_MS;
    let response = await run();
    for (const delay of delays) {
      if (!failed(response)) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
      response = await run();
    }
    this.degraded = failed(response);
    return response;
  }

  private async run(sub: PreparedSubscription, event: EventValue): Promise<ExecutionResult> {
    this.stats.executions++;
    const context: ExecContext = {
      principal: sub.principal,
      scope: sub.scope,
      event,
      extraErrors: [],
      fetchEntity: (info, field) => this.fetchEntity(context, info, field),
    };
    const result = await execute({
      schema: this.schema,
      document: sub.document,
      operationName: sub.operationName,
      variableValues: sub.variables,
      rootValue: { [sub.fieldName]: event },
      contextValue: context,
      fieldResolver: byResponseKey,
      typeResolver: typeFromValue,
    });
    if (context.extraErrors.length === 0) return result;
    return { ...result, errors: [...(result.errors ?? []), ...context.extraErrors] };
  }

  private async fetchEntity(
    ctx: ExecContext,
    info: GraphQLResolveInfo,
    field: SubscriptionField,
  ): Promise<unknown> {
    const query = entityQueryFor(info, field.entityQuery);
    const variables: Record<string, unknown> = { __id: ctx.event.entityId };
    for (const name of query.variableNames) variables[name] = info.variableValues[name];
    const key = `${ctx.event.eventId}|${query.key}|${JSON.stringify(variables)}|${ctx.scope}`;
    const { value } = this.entities.getOrCreate(key, () =>
      this.fetchWithRetries(() => {
        this.stats.federatedFetches++;
        return this.federated({ query: query.document, variables, principal: ctx.principal });
      }),
    );
    const response = await value;
    const entity = response.data?.[ENTITY_ALIAS];
    if (failed(response)) queueMicrotask(() => this.entities.delete(key));
    if (entity == null && failed(response)) {
      // Delivered anyway: the event's own fields stand, the entity is null with this error.
      const first = response.errors?.[0];
      ctx.extraErrors.push(
        new GraphQLError(
          `${field.entityQuery} ${ctx.event.entityId} could not be fetched for event ${ctx.event.eventId}: ${first?.message ?? "unavailable"}; refetch it or resubscribe with afterEventId`,
          {
            path: pathOf(info),
            extensions: {
              code: "SERVICE_UNAVAILABLE",
              retryable: true,
              eventId: ctx.event.eventId,
              cause: first?.extensions?.code,
            },
          },
        ),
      );
      return null;
    }
    if (entity == null) {
      const first = response.errors?.[0];
      throw new GraphQLError(
        first?.message ?? `${field.entityQuery} ${ctx.event.entityId} was not found`,
        { extensions: first?.extensions ?? { code: "NOT_FOUND" } },
      );
    }
    // Errors below the entity (a nested field a subgraph could not resolve), at the client's path.
    const prefix = pathOf(info);
    for (const error of response.errors ?? []) {
      const rest = (error.path ?? []).slice(1);
      ctx.extraErrors.push(
        new GraphQLError(error.message, {
          path: [...prefix, ...rest],
          extensions: error.extensions,
        }),
      );
    }
    return entity;
  }
}

function pathOf(info: GraphQLResolveInfo): (string | number)[] {
  const out: (string | number)[] = [];
  for (let p: GraphQLResolveInfo["path"] | undefined = info.path; p; p = p.prev) out.unshift(p.key);
  return out;
}

/** The Subscription field a prepared subscription uses, or an error. */
export function subscriptionFieldOf(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
): FieldNode | undefined {
  const first = (set: SelectionSetNode): FieldNode | undefined => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value !== "__typename") return selection;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const found = first(selection.selectionSet);
        if (found) return found;
      } else {
        const fragment = fragments[selection.name.value];
        const found = fragment && first(fragment.selectionSet);
        if (found) return found;
      }
    }
    return undefined;
  };
  return first(operation.selectionSet);
}
