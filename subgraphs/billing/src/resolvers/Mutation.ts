/**
 * Lifecycle mutations of the billing subgraph (declared in ../../sdl/Mutation.graphql): thin
 * wrappers over the db layer's operations, run as the caller's principal.
 */
import { executeAs, operations as op } from "@pshub/db";
import type { MutationResolvers } from "../__generated__/resolvers-types.ts";

export const Mutation: MutationResolvers = {
  runBilling: async (_, args, ctx) => {
    const result = await executeAs(ctx, op.runBilling, args);
    return {
      periodEnd: result.periodEnd,
      eventsCreated: result.eventsCreated,
      bySourceType: Object.entries(result.bySourceType).map(([sourceType, count]) => ({
        sourceType: sourceType as keyof typeof result.bySourceType,
        count,
      })),
      totals: result.totals,
      contracts: result.contractIds.map((id) => ({ id })),
    };
  },
  // Roles (finance) and the contract's legal-entity scope: @requiresScopes and @policy in the SDL.
  setBillingSchedule: (_, args, ctx) => {
    return executeAs(ctx, op.setBillingSchedule, args);
  },
};
