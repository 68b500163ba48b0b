/**
 * Invoice's lifecycle mutations (mutations.graphql, owned by the lifecycle work). Empty until
 * then: the resolver index adds `Mutation` to the map only when it has fields.
 */
export const Mutation = {};
