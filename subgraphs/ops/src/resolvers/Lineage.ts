/** `Query.lineage` (declared in ../../sdl/Lineage.graphql): the ordered chain behind an entity. */
import { type Lineage as LineageResult, lineage as lineageOf } from "@pshub/db";
import type { QueryResolvers } from "../__generated__/resolvers-types.ts";

export const lineage: QueryResolvers["lineage"] = async (_, args, ctx) => {
  const result: LineageResult = await lineageOf(
    ctx.db,
    {
      entityType: args.entityType.toLowerCase(),
      id: args.id,
      first: args.first ?? undefined,
      afterEventId: args.afterEventId == null ? undefined : Number(args.afterEventId),
    },
    ctx.scope,
  );
  return {
    ...result,
    // LineageEvent's resolvers turn the id and payload into text (shared with Query.domainEvents).
    events: result.events,
    entities: result.entities.map((e) => ({ ...e, firstEventId: String(e.firstEventId) })),
  };
};
