/**
 * How the exception queue is listed (a Relay connection): sort fields and filters. Ties are broken
 * by id; every sort column is NOT NULL so keyset cursors stay exact.
 */
import { syncExceptionOverdueSql } from "@pshub/db";
import { syncException } from "@pshub/db/schema";
import { assertUuid, type ListSpec } from "@pshub/subgraph-kit";
import { and, inArray, lt, sql } from "drizzle-orm";
import type { SyncExceptionFilter } from "../__generated__/resolvers-types.ts";

export type SyncExceptionFilterInput = SyncExceptionFilter;

export const syncExceptionList: ListSpec<typeof syncException, SyncExceptionFilterInput> = {
  name: "SyncException",
  table: syncException,
  id: syncException.id,
  orderFields: { DUE_AT: syncException.dueAt, CREATED_AT: syncException.createdAt },
  defaultOrder: { field: "DUE_AT", direction: "ASC" },
  where: (f) =>
    and(
      f.owner ? inArray(syncException.owner, [...f.owner]) : undefined,
      f.status ? inArray(syncException.status, [...f.status]) : undefined,
      f.severity ? inArray(syncException.severity, [...f.severity]) : undefined,
      f.entityType != null ? sql`${syncException.entityType} = ${f.entityType}` : undefined,
      f.entityId
        ? sql`${syncException.entityId} = ${assertUuid(f.entityId, "filter.entityId")}`
        : undefined,
      f.sourceSystem ? sql`${syncException.sourceSystem} = ${f.sourceSystem}` : undefined,
      f.overdue === true ? syncExceptionOverdueSql : undefined,
      f.overdue === false ? sql`not ${syncExceptionOverdueSql}` : undefined,
      f.dueBefore ? lt(syncException.dueAt, f.dueBefore) : undefined,
    ),
};
