/**
 * Operations on the exception queue (declared in ../../sdl/Mutation.graphql): thin wrappers over the
 * db layer's operations, run as the caller's principal.
 */
import { executeAs, operations as op } from "@pshub/db";
import type { MutationResolvers } from "../__generated__/resolvers-types.ts";

export const Mutation: MutationResolvers = {
  resolveException: (_, args, ctx) => executeAs(ctx, op.resolveException, args),
  ignoreException: (_, args, ctx) => executeAs(ctx, op.ignoreException, args),
  retryException: (_, args, ctx) => executeAs(ctx, op.retryException, args),
  replayCommand: (_, args, ctx) => executeAs(ctx, op.replayCommand, args),
};
