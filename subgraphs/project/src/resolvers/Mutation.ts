/**
 * Lifecycle mutations of the project subgraph (owned by the lifecycle engineer, declared in
 * ../../mutations.graphql). Added to the resolver map only when non-empty.
 */
export const Mutation = {};
