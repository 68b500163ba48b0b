/**
 * @pshub/subgraph-kit — what every pshub subgraph shares: the server bootstrap and its HTTP
 * adapter, the request context, scalars, errors, Relay keyset pagination and DataLoaders.
 */

export * from "./audit-refusals.ts";
export * from "./auth.ts";
export * from "./authorization.ts";
export * from "./context.ts";
export * from "./documentation.ts";
export * from "./errors.ts";
export * from "./filters.ts";
export * from "./http.ts";
export * from "./limits.ts";
export * from "./loaders.ts";
export * from "./money.ts";
export * from "./observability.ts";
export * from "./pagination.ts";
export * from "./prepared.ts";
export * from "./process.ts";
export * from "./references.ts";
export * from "./scalars.ts";
export * from "./server.ts";
export * from "./text-input.ts";
export * from "./type-defs.ts";
