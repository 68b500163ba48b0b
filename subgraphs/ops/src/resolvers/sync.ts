/**
 * syncStatus, resyncRequest and resyncEntity (../../sdl/SyncStatus.graphql and
 * ResyncRequest.graphql): reads of the sync engine's tables, and the resync request the CDC
 * process carries out (db sync.resyncEntity: an operation, so audited like every mutation).
 */
import { executeAs, schema, sync } from "@pshub/db";
import type { MutationResolvers, QueryResolvers } from "../__generated__/resolvers-types.ts";
import { syncLagHistory, syncStatus } from "../data/sync-status.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const syncQueries: Pick<QueryResolvers, "syncStatus" | "syncLagHistory" | "resyncRequest"> =
  {
    syncStatus: (_, { connector }, ctx) => syncStatus(ctx.db, connector, ctx.scope),
    syncLagHistory: (_, args, ctx) => syncLagHistory(ctx.db, args),
    resyncRequest: async (_, { id }, ctx) => {
      if (!UUID.test(id)) return null;
      // Through the request's loader: the caller's legal-entity scope applies.
      return ctx.loaders.byId(schema.resyncRequest).load(id);
    },
  };

export const syncMutations: Pick<MutationResolvers, "resyncEntity"> = {
  resyncEntity: (_, args, ctx) => executeAs(ctx, sync.resyncEntity, args),
};
