/**
 * graphql-ws on the gateway's own HTTP server (same port, same /graphql path as queries).
 *
 * - connection_init authenticates once per connection with the gateway's own authenticator
 *   (auth.ts): connection params (`Authorization`, `x-api-key`, and in development mode
 *   `x-pshub-principal`), else the upgrade request's headers. Refused → closed with 4401 before
 *   anything runs.
 * - subscribe: parsed, validated against the current API schema, variables coerced, the root
 *   field looked up in SUBSCRIPTION_FIELDS; then the outbox reader streams its events (replaying
 *   from `afterEventId`), filtered, and each becomes a result through the EventExecutor (shared
 *   across identical subscriptions).
 * - limits: a subscribe message is at most `maxPayloadBytes` (the gateway passes its HTTP body
 *   limit; a bigger message closes the socket with 1009), its document passes the same document
 *   limits as HTTP (tokens, depth, fields, … — before validation), subscriptions per connection;
 *   a connection that keeps sending rejected subscribes is closed (4429); keep-alive pings; a
 *   subscriber that falls behind ends with a retryable error.
 * - parsed and validated documents are remembered for reconnect storms, in a cache capped by
 *   an estimate of their bytes (`documentCacheBytes`); results are shared under a hash of the
 *   document, never the document text itself.
 * - a supergraph reload re-validates every running subscription: still valid, it goes on with
 *   the new schema; not valid, it ends with a retryable SCHEMA_CHANGED error. Never hangs.
 * - close(): every socket is closed with 1001 (clients reconnect elsewhere and resume).
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import { type Logger, type Principal, principalScopeKey } from "@pshub/db";
import {
  type DomainEventRecord,
  type EventFactsLoader,
  OutboxClosedError,
  type OutboxReader,
  SubscriberLaggingError,
} from "@pshub/db/outbox";
import { allows, ForbiddenError, type Requirement } from "@pshub/subgraph-kit/authorization";
import {
  checkDocument,
  type DocumentLimits,
  parseWithinLimits,
  QueryLimitError,
} from "@pshub/subgraph-kit/limits";
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  Kind,
  validate,
} from "graphql";
import type { Context, SubscribePayload } from "graphql-ws";
import { useServer as attachGraphQLWs } from "graphql-ws/use/ws";
import { LRUCache } from "lru-cache";
import { WebSocketServer } from "ws";
import { type AuthResult, type Credentials, createAuthenticator } from "../auth.ts";
import { DEFAULT_LIMITS } from "../limits.ts";
import { RATE_LIMITED, type RateLimiter, rateLimitMessage } from "../rate-limit.ts";
import type { TrustedDocuments } from "../trusted-documents.ts";
import {
  EventExecutor,
  type FederatedExecutor,
  type PreparedSubscription,
  subscriptionFieldOf,
} from "./execute.ts";
import { FanoutGroup, type MemberSocket } from "./fanout.ts";
import { type FieldArgs, SUBSCRIPTION_FIELDS } from "./fields.ts";

/** The gateway's authenticator (auth.ts): header-like credentials → a principal, or refused. */
export type Authenticate = (credentials: Credentials) => Promise<AuthResult>;

/** Close code of a connection whose connection_init does not authenticate. */
export const CLOSE_UNAUTHENTICATED = 4401;

/**
 * What a socket authenticates with: its connection params (string values, names lower-cased,
 * as HTTP header names are) over the upgrade request's headers.
 */
export function credentialsOf(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  request: IncomingMessage | undefined,
): Credentials {
  const credentials: Credentials = { ...request?.headers };
  for (const [name, value] of Object.entries(connectionParams ?? {}))
    if (typeof value === "string") credentials[name.toLowerCase()] = value;
  return credentials;
}

export interface SubscriptionServerOptions {
  httpServer: Server;
  path?: string;
  /** The current API schema (undefined until the gateway has loaded one). */
  schema: () => GraphQLSchema | undefined;
  /** The gateway's executor, for the entity selections. */
  execute: FederatedExecutor;
  reader: OutboxReader;
  facts: EventFactsLoader;
  /** Default: development mode (auth.ts without secrets). */
  authenticate?: Authenticate;
  /**
   * What each subscription field requires (the supergraph's @requiresScopes / @authenticated,
   * read by the kit's requirementsOfSdl); a field absent from it requires nothing.
   */
  requirements?: () => ReadonlyMap<string, Requirement> | undefined;
  /** What results may be shared across (default: the principal's id, roles and scope). */
  scopeOf?: (principal: Principal) => string;
  maxSubscriptionsPerConnection?: number;
  /** Subscriptions this process serves in all (default 50,000). */
  maxSubscriptions?: number;
  /**
   * The gateway's per-principal budget (rate-limit.ts): each subscribe spends one point of the
   * same budget HTTP requests spend; over it, the subscribe gets RATE_LIMITED with retryAfterSeconds.
   */
  rateLimiter?: RateLimiter;
  /** The gateway's trusted documents: registered ids resolved, unregistered text refused when enforced. */
  trustedDocuments?: TrustedDocuments;
  /** Rejected subscribe messages a connection may send before it is closed (4429). */
  maxRejectedSubscribes?: number;
  keepAliveMs?: number;
  /** The largest WebSocket message (default 1,000,000; the gateway passes GATEWAY_MAX_BODY_BYTES). */
  maxPayloadBytes?: number;
  /** Document limits checked before validation (the gateway passes its own). */
  documentLimits?: DocumentLimits;
  /** Estimated bytes of parsed documents kept for reuse (default 32 MB). */
  documentCacheBytes?: number;
  /** Unsent bytes a connection may hold before its subscriptions end as lagging. */
  maxBufferedBytes?: number;
  /** Live fan-out: sockets written per turn of the event loop (fanout.ts; default 0 = a batch per turn). */
  fanoutWriteTurn?: number;
  /** Per live fan-out batch: seconds to resolve its results, then to write them (metrics). */
  fannedOut?: (resolveSeconds: number, writeSeconds: number) => void;
  log?: Logger;
}

export interface SubscriptionStats {
  connections: number;
  /** Parsed documents kept for reuse, and their estimated bytes (at most documentCacheBytes). */
  cachedDocuments: number;
  cachedDocumentBytes: number;
  subscriptions: number;
  /** Live fan-out groups (identical live subscriptions share one). */
  fanoutGroups: number;
  delivered: number;
  /** Subscriptions ended with SUBSCRIPTION_LAGGING (a socket or a stream too far behind). */
  lagging: number;
  executions: number;
  federatedFetches: number;
  sharedResults: number;
}

export interface SubscriptionServer {
  /** Re-validates running subscriptions against a reloaded supergraph's API schema. */
  schemaChanged(apiSchema: GraphQLSchema): void;
  stats(): SubscriptionStats;
  close(): Promise<void>;
}

interface ConnectionExtra extends Record<PropertyKey, unknown> {
  principal?: Principal;
  rejected?: number;
}

interface Running {
  prepared: PreparedSubscription;
  end(error: GraphQLError): void;
}

interface SubscribeContext {
  /** The subscribe message's id. */
  id: string;
  prepared: PreparedSubscription;
  args: FieldArgs;
  afterEventId: number | null;
  socket: MemberSocket | undefined;
}

const CLOSE_BRACE = Buffer.from("}");

const retryable = (message: string, code: string, extra: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code, retryable: true, ...extra } });

const badRequest = (message: string, code = "BAD_REQUEST") =>
  new GraphQLError(message, { extensions: { code } });

/** A limit error as a subscribe error (its code, limit and actual; no HTTP status). */
const limitError = (error: QueryLimitError) =>
  new GraphQLError(error.message, {
    extensions: {
      code: error.extensions.code,
      limit: error.extensions.limit,
      actual: error.extensions.actual,
    },
  });

/**
 * What a cached document costs: its AST is far bigger than its text (a token-dense document's
 * AST measured ~45 bytes per source character), plus the text itself as the key.
 */
const documentWeight = (source: string) => source.length * 48 + 1024;

interface CheckedDocument {
  schema: GraphQLSchema;
  document: DocumentNode;
  errors: readonly GraphQLError[];
}

export function createSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const {
    reader,
    facts,
    log,
    authenticate = createAuthenticator(),
    scopeOf = principalScopeKey,
    maxSubscriptionsPerConnection = 50,
    maxRejectedSubscribes = 100,
    maxBufferedBytes = 8_000_000,
    maxSubscriptions = 50_000,
  } = options;

  let executor: EventExecutor | undefined;
  let executorSchema: GraphQLSchema | undefined;
  const currentExecutor = (): EventExecutor | undefined => {
    const schema = options.schema();
    if (!schema) return undefined;
    if (!executor) executor = new EventExecutor(schema, options.execute);
    else if (schema !== executorSchema) executor.setSchema(schema);
    executorSchema = schema;
    return executor;
  };

  const running = new Set<Running>();
  const documentLimits = options.documentLimits ?? DEFAULT_LIMITS;
  const documentCacheBytes = options.documentCacheBytes ?? 32_000_000;
  const documents = new LRUCache<string, CheckedDocument>({
    max: 1000,
    maxSize: documentCacheBytes,
    // One document may take at most an eighth of the cache; bigger ones are parsed every time.
    maxEntrySize: Math.ceil(documentCacheBytes / 8),
    sizeCalculation: (_value, source) => documentWeight(source),
  });
  let connections = 0;
  let delivered = 0;
  let laggingEnded = 0;
  /** Live fan-out groups by subscription key. */
  const groups = new Map<string, FanoutGroup>();
  let closing = false;

  const wss = new WebSocketServer({
    server: options.httpServer,
    path: options.path ?? "/graphql",
    maxPayload: options.maxPayloadBytes ?? 1_000_000,
    // The fan-out writes whole frames to the TCP socket (fanout.ts), which needs ws's sender
    // never to hold frames back: it would while compressing. Small JSON frames gain little from it.
    perMessageDeflate: false,
  });
  wss.on("error", (error) => log?.error({ err: error }, "websocket server error"));

  const reject = (
    ctx: Context<Record<string, unknown>, ConnectionExtra>,
    errors: GraphQLError[],
  ) => {
    ctx.extra.rejected = (ctx.extra.rejected ?? 0) + 1;
    if (ctx.extra.rejected === maxRejectedSubscribes + 1) {
      const socket = (ctx.extra as { socket?: { close(code: number, reason: string): void } })
        .socket;
      // After the error messages already queued have gone out.
      setTimeout(() => socket?.close(4429, "Too many rejected subscribe requests"), 20);
    }
    return errors;
  };

  const lagging = (lastEventId: number | null) => {
    const last = lastEventId === null ? null : String(lastEventId);
    return retryable(
      `this subscription fell too far behind; resubscribe with afterEventId=${last ?? ""}`,
      "SUBSCRIPTION_LAGGING",
      { lastEventId: last },
    );
  };
  const translate = (error: unknown, lastEventId: number | null): unknown => {
    if (error instanceof SubscriberLaggingError) {
      laggingEnded++;
      return lagging(lastEventId);
    }
    if (error instanceof OutboxClosedError)
      return retryable("the gateway is shutting down; reconnect and resume", "SHUTTING_DOWN", {
        lastEventId: lastEventId === null ? null : String(lastEventId),
      });
    return error;
  };

  /**
   * The `next` payload (JSON) of one event for one subscription, or null when it skips the event;
   * the result is shared by every identical subscription (EventExecutor).
   */
  async function resultJson(
    prepared: PreparedSubscription,
    args: FieldArgs,
    event: DomainEventRecord,
  ): Promise<string | null> {
    const exec = currentExecutor();
    if (!exec) throw retryable("the graph is not loaded yet; retry", "UNAVAILABLE");
    const eventFacts = await facts.load(event);
    if (!prepared.field.matches(args, event, eventFacts)) return null;
    // A scoped principal gets no event of another legal entity (not even its id).
    const scope = prepared.principal.legalEntities;
    if (scope) {
      const code = await facts.legalEntityOf(event);
      if (code === null || !scope.includes(code)) return null;
    }
    const value = exec.eventValue(prepared, event, eventFacts);
    if (!value) return null;
    return (await exec.result(prepared, value)).json;
  }

  /** A live subscription: a member of the fan-out group of its key (fanout.ts). */
  function live(ctx: SubscribeContext): AsyncGenerator<ExecutionResult> {
    const { prepared, args, socket } = ctx;
    if (!currentExecutor() || !socket) {
      const error = retryable("the graph is not loaded yet; retry", "UNAVAILABLE");
      return (async function* () {
        yield* [];
        throw error;
      })();
    }
    let group = groups.get(prepared.key);
    if (!group) {
      const key = prepared.key;
      group = new FanoutGroup({
        reader,
        filter: prepared.field.filter(args),
        resolve: (event) => resultJson(prepared, args, event),
        maxBufferedBytes,
        writeTurn: options.fanoutWriteTurn ?? 0,
        lagging,
        translate: (error, lastEventId) => translate(error, lastEventId) as Error,
        delivered: (count) => {
          delivered += count;
        },
        laggingEnded: () => {
          laggingEnded++;
        },
        fannedOut: options.fannedOut,
        empty: () => {
          if (groups.get(key) === created) groups.delete(key);
        },
      });
      const created = group;
      groups.set(key, group);
    }
    const member = group.join(ctx.id, socket);
    const self: Running = { prepared, end: (error) => member.end(error) };
    running.add(self);
    const leave = () => running.delete(self);
    const next = member.next.bind(member);
    const ret = member.return.bind(member);
    member.next = async () => {
      try {
        return await next();
      } finally {
        leave();
      }
    };
    member.return = async (value) => {
      leave();
      return ret(value);
    };
    return member;
  }

  /**
   * The event stream of one resuming subscription (afterEventId): its replay, then live events,
   * from a reader stream of its own. Not an async generator: graphql-ws calls return() when the
   * client completes or disconnects, and a generator suspended in an await would only see that
   * after its next event; this one lets go of the reader at once.
   */
  function stream(ctx: SubscribeContext): AsyncGenerator<ExecutionResult> {
    const { prepared, args, socket } = ctx;
    const events = reader.subscribe({
      afterEventId: ctx.afterEventId,
      filter: prepared.field.filter(args),
    });
    const prefix = Buffer.from(`{"id":${JSON.stringify(ctx.id)},"type":"next","payload":`);
    let finished = false;
    let ended: GraphQLError | null = null;
    let lastEventId = ctx.afterEventId;
    const self: Running = {
      prepared,
      end(error) {
        ended = error;
        events.close();
      },
    };
    running.add(self);
    const finish = () => {
      if (finished) return;
      finished = true;
      running.delete(self);
      events.close();
    };
    const done = { done: true, value: undefined } as const;
    const iterator = {
      async next(): Promise<IteratorResult<ExecutionResult, undefined>> {
        if (finished) return done;
        try {
          if (!currentExecutor())
            throw retryable("the graph is not loaded yet; retry", "UNAVAILABLE");
          while (true) {
            const step = await events.next();
            if (step.done || finished) {
              finish();
              const error = ended;
              ended = null;
              if (error) throw error;
              return done;
            }
            const event = step.value;
            const json = await resultJson(prepared, args, event);
            if (json === null) continue;
            if (finished) return done;
            if (socket?.readyState !== 1) continue;
            // A client that does not read: its buffer grows; end it (it resumes with afterEventId).
            if (socket.bufferedAmount > maxBufferedBytes) {
              laggingEnded++;
              throw lagging(lastEventId);
            }
            // Sent here rather than yielded to graphql-ws: the payload is serialised once per
            // event for every identical subscription, not once per subscriber.
            socket.send(Buffer.concat([prefix, Buffer.from(json), CLOSE_BRACE]), { binary: false });
            lastEventId = event.id;
            delivered++;
          }
        } catch (error) {
          finish();
          throw translate(error, lastEventId);
        }
      },
      async return(): Promise<IteratorResult<ExecutionResult, undefined>> {
        finish();
        return done;
      },
      async throw(error: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
        finish();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator as unknown as AsyncGenerator<ExecutionResult>;
  }

  const disposable = attachGraphQLWs<Record<string, unknown>, ConnectionExtra>(
    {
      async onConnect(ctx) {
        if (closing) return false;
        const result = await authenticate(
          credentialsOf(ctx.connectionParams, ctx.extra.request as IncomingMessage | undefined),
        );
        if (!result.ok) {
          // Closed here with 4401 (graphql-ws's own close after `false` is then a no-op).
          const socket = (ctx.extra as { socket?: { close(code: number, reason: string): void } })
            .socket;
          // A close reason is at most 123 bytes.
          socket?.close(CLOSE_UNAUTHENTICATED, `Unauthorized: ${result.message}`.slice(0, 120));
          return false;
        }
        ctx.extra.principal = result.principal;
        connections++;
        return true;
      },
      onClose(ctx) {
        if (ctx.extra.principal !== undefined) connections--;
      },
      onSubscribe(ctx, id, received) {
        const checked = checkSubscribe(ctx, id, received);
        const principal = ctx.extra.principal;
        const limiter = options.rateLimiter;
        // Synchronous unless a rate limit is on: graphql-ws runs the subscribes of one socket
        // read back to back, and the per-connection checks above rely on that order.
        if (!limiter || !principal) return checked;
        return limiter
          .consume(
            principal,
            (ctx.extra.request as IncomingMessage | undefined)?.socket.remoteAddress,
          )
          .then((allowed) =>
            allowed.ok
              ? checked
              : reject(ctx, [
                  new GraphQLError(rateLimitMessage(allowed.retryAfterSeconds), {
                    extensions: {
                      code: RATE_LIMITED,
                      retryAfterSeconds: allowed.retryAfterSeconds,
                    },
                  }),
                ]),
          );
      },
      subscribe: (args) => {
        const context = args.contextValue as SubscribeContext;
        return context.afterEventId === null ? live(context) : stream(context);
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  /** Every check of a subscribe message but the rate limit; the execution args, or the errors. */
  function checkSubscribe(
    ctx: Context<Record<string, unknown>, ConnectionExtra>,
    id: string,
    received: SubscribePayload,
  ): ExecutionArgs | readonly GraphQLError[] {
    const principal = ctx.extra.principal;
    if (!principal) return [badRequest("not authenticated", "UNAUTHENTICATED")];
    // A registered document's id (empty query + documentId or persistedQuery) becomes its text.
    const decision = options.trustedDocuments?.decide(
      received as typeof received & { documentId?: unknown },
      principal,
    ) ?? { ok: true as const, fromId: false };
    if (!decision.ok) return reject(ctx, [badRequest(decision.message, decision.code)]);
    const payload =
      decision.fromId && decision.query !== undefined
        ? { ...received, query: decision.query }
        : received;
    const apiSchema = options.schema();
    if (!apiSchema) return [retryable("the graph is not loaded yet; retry", "UNAVAILABLE")];
    if (running.size >= maxSubscriptions)
      return [
        retryable(
          `this gateway serves its maximum of ${maxSubscriptions} subscriptions; retry later or on another gateway`,
          "TOO_MANY_SUBSCRIPTIONS",
        ),
      ];
    if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerConnection) {
      return reject(ctx, [
        badRequest(
          `too many subscriptions on this connection (at most ${maxSubscriptionsPerConnection}); complete some first`,
          "TOO_MANY_SUBSCRIPTIONS",
        ),
      ]);
    }
    // A reconnect storm sends the same few documents thousands of times: parse and
    // validate each once per schema. The limits come first: validation is quadratic.
    let checked = documents.get(payload.query);
    if (!checked || checked.schema !== apiSchema) {
      let parsed: DocumentNode;
      try {
        parsed = parseWithinLimits(payload.query, documentLimits);
      } catch (error) {
        if (error instanceof QueryLimitError) return reject(ctx, [limitError(error)]);
        return reject(ctx, [badRequest((error as Error).message, "GRAPHQL_PARSE_FAILED")]);
      }
      const overLimit = checkDocument(parsed, documentLimits);
      if (overLimit) return reject(ctx, [limitError(overLimit)]);
      checked = { schema: apiSchema, document: parsed, errors: validate(apiSchema, parsed) };
      documents.set(payload.query, checked);
    }
    const document = checked.document;
    if (checked.errors.length > 0)
      return reject(
        ctx,
        checked.errors.map((e) => badRequest(e.message, "GRAPHQL_VALIDATION_FAILED")),
      );
    const operation = getOperationAST(document, payload.operationName);
    if (!operation)
      return reject(ctx, [badRequest("name the operation to run with operationName")]);
    if (operation.operation !== "subscription")
      return reject(ctx, [
        badRequest(
          `this WebSocket serves subscriptions only; send ${operation.operation} operations over HTTP (POST /graphql)`,
          "OPERATION_NOT_SUPPORTED",
        ),
      ]);
    const variables = getVariableValues(
      apiSchema,
      operation.variableDefinitions ?? [],
      payload.variables ?? {},
    );
    if (variables.errors)
      return reject(
        ctx,
        variables.errors.map((e) => badRequest(e.message, "BAD_USER_INPUT")),
      );
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions)
      if (definition.kind === Kind.FRAGMENT_DEFINITION)
        fragments[definition.name.value] = definition;
    const fieldNode = subscriptionFieldOf(operation, fragments);
    const fieldName = fieldNode?.name.value ?? "";
    const field = SUBSCRIPTION_FIELDS[fieldName];
    const fieldDef = apiSchema.getSubscriptionType()?.getFields()[fieldName];
    if (!fieldNode || !field || !fieldDef)
      return reject(ctx, [badRequest(`subscription field ${fieldName} is not served`)]);
    const args = getArgumentValues(fieldDef, fieldNode, variables.coerced) as FieldArgs;
    const after = args.afterEventId;
    if (after !== undefined && after !== null && !/^\d{1,15}$/.test(String(after)))
      return reject(ctx, [
        badRequest(
          `afterEventId must be an eventId (digits), got ${JSON.stringify(after)}`,
          "BAD_USER_INPUT",
        ),
      ]);
    // Roles, as the SDL declares them: refused at subscribe, before any event is read.
    const requirement = options.requirements?.()?.get(fieldName);
    if (requirement && !allows(requirement, principal))
      return reject(ctx, [new ForbiddenError(`Subscription.${fieldName}`, requirement, principal)]);
    const scope = scopeOf(principal);
    const prepared: PreparedSubscription = {
      document,
      operationName: payload.operationName,
      variables: variables.coerced,
      principal,
      scope,
      fieldName,
      field,
      // A hash, not the text: the shared-result caches outlive the subscription.
      key: JSON.stringify([
        createHash("sha256").update(payload.query).digest("base64"),
        payload.operationName ?? null,
        args,
        scope,
      ]),
    };
    const context: SubscribeContext = {
      id,
      prepared,
      args,
      afterEventId: after === undefined || after === null ? null : Number(after),
      socket: (ctx.extra as { socket?: MemberSocket }).socket,
    };
    return {
      schema: apiSchema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
      contextValue: context,
    };
  }

  return {
    schemaChanged(apiSchema) {
      const exec = currentExecutor();
      exec?.setSchema(apiSchema);
      executorSchema = apiSchema;
      for (const sub of running) {
        const errors = validate(apiSchema, sub.prepared.document);
        if (
          errors.length > 0 ||
          !apiSchema.getSubscriptionType()?.getFields()[sub.prepared.fieldName]
        )
          sub.end(
            retryable(
              `the graph changed and this subscription is no longer valid: ${errors[0]?.message ?? sub.prepared.fieldName}`,
              "SCHEMA_CHANGED",
            ),
          );
      }
    },
    stats() {
      const s = executor?.stats ?? { executions: 0, federatedFetches: 0, sharedResults: 0 };
      return {
        connections,
        cachedDocuments: documents.size,
        cachedDocumentBytes: documents.calculatedSize,
        subscriptions: running.size,
        fanoutGroups: groups.size,
        delivered,
        lagging: laggingEnded,
        ...s,
      };
    },
    async close() {
      if (closing) return;
      closing = true;
      await disposable.dispose();
    },
  };
}
