/**
 * Lifecycle mutations of the customer subgraph (declared in ../../sdl/Mutation.graphql): thin
 * wrappers over the db layer's operations, run as the caller's principal.
 */
import { executeAs, operations } from "@pshub/db";
import type { MutationResolvers } from "../__generated__/resolvers-types.ts";

export const Mutation: MutationResolvers = {
  convertOpportunity: async (_, args, ctx) => {
    const result = await executeAs(ctx, operations.convertOpportunity, args);
    return { ...result, project: { id: result.project.id } };
  },
};
