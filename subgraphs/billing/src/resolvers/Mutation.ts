/**
 * Lifecycle mutations of the billing subgraph (declared in ../../mutations.graphql): thin
 * wrappers over the db layer's operations, run as the caller's principal. Also the `lineage`
 * query (declared there too with `extend type Query`).
 */
// TODO: import from "@pshub/db" once db/src/index.ts re-exports ./lifecycle/index.ts.
import {
  executeAs,
  type Lineage as LineageResult,
  lineage,
  operations as op,
} from "../../../../db/src/lifecycle/index.ts";
import type { MutationResolvers, QueryResolvers } from "../__generated__/resolvers-types.ts";
import { Query } from "./Query.ts";

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
  resolveException: (_, args, ctx) => executeAs(ctx, op.resolveException, args),
};

const lineageQuery: QueryResolvers["lineage"] = async (_, args, ctx) => {
  const result: LineageResult = await lineage(ctx.db, {
    entityType: args.entityType.toLowerCase(),
    id: args.id,
    first: args.first ?? undefined,
    afterEventId: args.afterEventId == null ? undefined : Number(args.afterEventId),
  });
  return {
    ...result,
    events: result.events.map((e) => ({
      ...e,
      id: String(e.id),
      payload: JSON.stringify(e.payload),
    })),
    entities: result.entities.map((e) => ({ ...e, firstEventId: String(e.firstEventId) })),
  };
};

// The resolver index adds only `Mutation` from this file; the lineage query joins the Query map
// here until the index imports it (see the lifecycle report).
Object.assign(Query, { lineage: lineageQuery });
