/**
 * @pshub/gateway — the composed graph on one port.
 *
 * For other parts of pshub:
 * - `createGateway(options)` → `{ httpServer, gateway, apolloServer, schema(), execute(), health(),
 *   authenticate(), listen(), close() }`.
 *   - `httpServer` (node:http) does not handle `upgrade`: `attachSubscriptions(gw, …)`
 *     (./subscriptions) puts the graphql-ws server on it (main.ts does).
 *   - `execute({ query, variables, operationName, principal, correlationId })` runs an operation
 *     through the gateway's own pipeline (query planning over the subgraphs, limits, header
 *     forwarding) and returns `{ data, errors, extensions }`: subscriptions resolve an event's
 *     selection with it.
 *   - `schema()` is the composed API schema (includes `Subscription`).
 *   - `authenticate(headers)` is the gateway's rule for who is asking (auth.ts).
 * - `compose(readAllSubgraphSdl())` composes the SDL in subgraphs/<name>/sdl/*.graphql.
 */
export * from "./auth.ts";
export * from "./compose.ts";
export * from "./env.ts";
export * from "./fetcher.ts";
export * from "./gateway.ts";
export * from "./ide/examples.ts";
export * from "./limits.ts";
export * from "./subgraphs.ts";
export * from "./subscriptions/index.ts";
export * from "./trusted-documents.ts";
