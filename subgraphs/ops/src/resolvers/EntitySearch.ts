/**
 * Query.entitySearch and the ids in the source systems of a hit or a lineage's entity
 * (../../sdl/EntitySearch.graphql, LineageEntity.graphql): one search statement
 * (../data/entity-search.ts), the source links through one batched loader.
 */
import type {
  EntitySearchHitResolvers,
  LineageEntityResolvers,
  QueryResolvers,
} from "../__generated__/resolvers-types.ts";
import { entitySearch as search } from "../data/entity-search.ts";

export const entitySearchQuery: Pick<QueryResolvers, "entitySearch"> = {
  entitySearch: (_, args, ctx) => search(ctx.db, args, ctx.scope),
};

export const EntitySearchHit: EntitySearchHitResolvers = {
  externalIds: (hit, _, ctx) => ctx.loaders.sourceLinksOf().load(hit.id),
};

export const LineageEntity: LineageEntityResolvers = {
  externalIds: (entity, _, ctx) => ctx.loaders.sourceLinksOf().load(entity.entityId),
};
