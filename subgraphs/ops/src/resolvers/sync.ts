/**
 * syncStatus, resyncRequest and resyncEntity (../../sdl/SyncStatus.graphql and
 * ResyncRequest.graphql): reads of the sync engine's tables, and the resync request the CDC
 * process carries out (db sync.requestResync).
 */
import { DomainError, schema, sync } from "@pshub/db";
import { eq } from "drizzle-orm";
import type { MutationResolvers, QueryResolvers } from "../__generated__/resolvers-types.ts";
import { syncStatus } from "../data/sync-status.ts";

const ENTITY_TYPES = Object.keys(sync.ENTITY_SPECS);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const syncQueries: Pick<QueryResolvers, "syncStatus" | "resyncRequest"> = {
  syncStatus: (_, { connector }, ctx) => syncStatus(ctx.db, connector),
  resyncRequest: async (_, { id }, ctx) => {
    if (!UUID.test(id)) return null;
    const [row] = await ctx.db
      .select()
      .from(schema.resyncRequest)
      .where(eq(schema.resyncRequest.id, id));
    return row ?? null;
  },
};

export const syncMutations: Pick<MutationResolvers, "resyncEntity"> = {
  resyncEntity: async (_, { entityType, id }, ctx) => {
    if (!ENTITY_TYPES.includes(entityType)) {
      throw new DomainError(
        "BAD_USER_INPUT",
        `entityType must be one of ${ENTITY_TYPES.join(", ")}`,
        { field: "entityType" },
      );
    }
    if (!UUID.test(id))
      throw new DomainError("BAD_USER_INPUT", "id must be a UUID", { field: "id" });
    return ctx.db.transaction((tx) =>
      sync.requestResync(tx, { entityType, entityId: id, actor: ctx.principal }),
    );
  },
};
