/**
 * @pshub/gateway — the composed graph on one port.
 *
 * For other parts of pshub:
 * - `createGateway(options)` → `{ httpServer, gateway, apolloServer, schema(), execute(), health(), listen(), close() }`.
 *   - `httpServer` (node:http) does not handle `upgrade`: attach a graphql-ws server to it,
 *     e.g. `new WebSocketServer({ server: gw.httpServer, path: "/graphql" })`.
 *   - `execute({ query, variables, operationName, principal, correlationId })` runs an operation
 *     through the gateway's own pipeline (query planning over the subgraphs, limits, header
 *     forwarding) and returns `{ data, errors, extensions }`: use it to resolve a subscription
 *     event's selection as a federated query.
 *   - `schema()` is the composed API schema (includes `Subscription`), for graphql-ws `schema`.
 * - `compose(readAllSubgraphSdl())` composes the SDL in subgraphs/<name>/*.graphql.
 */
export * from "./compose.ts";
export * from "./env.ts";
export * from "./gateway.ts";
export * from "./ide/examples.ts";
export * from "./limits.ts";
export * from "./subgraphs.ts";
