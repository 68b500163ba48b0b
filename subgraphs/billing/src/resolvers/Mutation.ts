/**
 * Lifecycle mutations of the billing subgraph (declared in ../../sdl/Mutation.graphql): thin
 * wrappers over the db layer's operations, run as the caller's principal.
 */
import { DomainError, executeAs, operations as op } from "@pshub/db";
import type { MutationResolvers } from "../__generated__/resolvers-types.ts";
import { contractLegalEntityCode } from "../data/batches.ts";

/** Who may change a billing calendar (until the SDL declares roles with @requiresScopes). */
const SCHEDULE_ROLES = ["finance", "admin"];

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
  setBillingSchedule: async (_, args, ctx) => {
    if (!ctx.auth.roles.some((role) => SCHEDULE_ROLES.includes(role))) {
      throw new DomainError("FORBIDDEN", "setBillingSchedule needs the role finance or admin", {
        requiredRoles: SCHEDULE_ROLES,
      });
    }
    const scope = ctx.auth.legalEntities;
    if (scope) {
      // Outside the caller's legal entities a contract does not exist for them.
      const code = await contractLegalEntityCode(ctx.db, args.contractId);
      if (code !== undefined && !scope.includes(code)) {
        throw new DomainError("NOT_FOUND", `Contract ${args.contractId} does not exist`, {
          entityType: "Contract",
          id: args.contractId,
        });
      }
    }
    return executeAs(ctx, op.setBillingSchedule, args);
  },
};
