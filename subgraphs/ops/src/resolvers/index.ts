/** Ops's resolver map: one file per type (the hub tables' small types share hub-tables.ts). */
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { EntitySearchHit, entitySearchQuery, LineageEntity } from "./EntitySearch.ts";
import {
  AuditLogEntry,
  hubTableQueries,
  InboxEvent,
  LineageEvent,
  OutboundCommand,
  SyncCursor,
} from "./hub-tables.ts";
import { Kpis, kpisQuery } from "./Kpis.ts";
import { lineage } from "./Lineage.ts";
import { Mutation } from "./Mutation.ts";
import { Query } from "./Query.ts";
import { SyncException } from "./SyncException.ts";
import { syncMutations, syncQueries } from "./sync.ts";

export const resolvers: Resolvers = {
  Query: {
    ...Query,
    ...hubTableQueries,
    ...syncQueries,
    ...kpisQuery,
    ...entitySearchQuery,
    lineage,
  },
  Mutation: { ...Mutation, ...syncMutations },
  AuditLogEntry,
  InboxEvent,
  EntitySearchHit,
  Kpis,
  LineageEntity,
  LineageEvent,
  OutboundCommand,
  SyncCursor,
  SyncException,
  ResyncRequest: {
    inboxEventId: (r) => (r.inboxEventId == null ? null : String(r.inboxEventId)),
  },
  SyncExceptionEntity: {
    __resolveType: (entity) => entity.__typename,
  },
};
