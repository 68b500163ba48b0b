/**
 * How the hub's own tables are listed (Relay connections, read-only): the outbox, the audit log,
 * source links, sync cursors, the inbox and outbound commands. domain_event, audit_log and
 * inbox_event are keyed by a bigserial: the kit casts their cursors as bigint. idempotency_key is
 * not listed (its stored responses belong to their principals).
 */
import {
  auditLog,
  domainEvent,
  inboxEvent,
  outboundCommand,
  sourceLink,
  syncCursor,
} from "@pshub/db/schema";
import { assertUuid, BadUserInputError, type ListSpec } from "@pshub/subgraph-kit";
import { and, eq, gt, gte, inArray, lt, sql } from "drizzle-orm";
import type {
  AuditLogFilter,
  DomainEventFilter,
  InboxEventFilter,
  OutboundCommandFilter,
  SourceLinkFilter,
  SyncCursorFilter,
} from "../__generated__/resolvers-types.ts";

/** Checks a bigserial id argument (e.g. afterEventId). */
function serialArg(name: string, value: string): number {
  if (!/^\d{1,15}$/.test(value)) {
    throw new BadUserInputError(`\`${name}\` is not a valid event id: ${JSON.stringify(value)}`, {
      argumentName: name,
    });
  }
  return Number(value);
}

export const domainEventList: ListSpec<typeof domainEvent, DomainEventFilter> = {
  name: "DomainEvent",
  table: domainEvent,
  id: domainEvent.id,
  orderFields: { ID: domainEvent.id, OCCURRED_AT: domainEvent.occurredAt },
  defaultOrder: { field: "ID", direction: "ASC" },
  where: (f) =>
    and(
      f.type != null ? eq(domainEvent.type, f.type) : undefined,
      f.entityType != null ? eq(domainEvent.entityType, f.entityType) : undefined,
      f.entityId != null
        ? eq(domainEvent.entityId, assertUuid(f.entityId, "filter.entityId"))
        : undefined,
      f.correlationId != null
        ? eq(domainEvent.correlationId, assertUuid(f.correlationId, "filter.correlationId"))
        : undefined,
      f.occurredFrom ? gte(domainEvent.occurredAt, f.occurredFrom) : undefined,
      f.occurredTo ? lt(domainEvent.occurredAt, f.occurredTo) : undefined,
      f.afterEventId != null
        ? gt(domainEvent.id, serialArg("filter.afterEventId", f.afterEventId))
        : undefined,
    ),
};

export const auditLogList: ListSpec<typeof auditLog, AuditLogFilter> = {
  name: "AuditLogEntry",
  table: auditLog,
  id: auditLog.id,
  orderFields: { ID: auditLog.id, AT: auditLog.at },
  defaultOrder: { field: "ID", direction: "ASC" },
  where: (f) =>
    and(
      f.actor != null ? eq(auditLog.actor, f.actor) : undefined,
      f.operation != null ? eq(auditLog.operation, f.operation) : undefined,
      f.entityType != null ? eq(auditLog.entityType, f.entityType) : undefined,
      f.entityId != null
        ? eq(auditLog.entityId, assertUuid(f.entityId, "filter.entityId"))
        : undefined,
      f.correlationId != null
        ? eq(auditLog.correlationId, assertUuid(f.correlationId, "filter.correlationId"))
        : undefined,
      f.requestId != null
        ? eq(auditLog.requestId, assertUuid(f.requestId, "filter.requestId"))
        : undefined,
      f.role != null ? sql`${f.role} = any(${auditLog.roles})` : undefined,
      f.outcome != null ? eq(auditLog.outcome, f.outcome) : undefined,
      f.from ? gte(auditLog.at, f.from) : undefined,
      f.to ? lt(auditLog.at, f.to) : undefined,
    ),
};

export const sourceLinkList: ListSpec<typeof sourceLink, SourceLinkFilter> = {
  name: "SourceLink",
  table: sourceLink,
  id: sourceLink.id,
  orderFields: { CREATED_AT: sourceLink.createdAt, LAST_SEEN_AT: sourceLink.lastSeenAt },
  defaultOrder: { field: "CREATED_AT", direction: "ASC" },
  where: (f) =>
    and(
      f.system ? eq(sourceLink.system, f.system) : undefined,
      f.object != null ? eq(sourceLink.object, f.object) : undefined,
      f.entityType != null ? eq(sourceLink.entityType, f.entityType) : undefined,
      f.entityId != null
        ? eq(sourceLink.entityId, assertUuid(f.entityId, "filter.entityId"))
        : undefined,
      f.externalId != null ? eq(sourceLink.externalId, f.externalId) : undefined,
    ),
};

export const syncCursorList: ListSpec<typeof syncCursor, SyncCursorFilter> = {
  name: "SyncCursor",
  table: syncCursor,
  id: syncCursor.id,
  orderFields: { CONNECTOR: syncCursor.connector, UPDATED_AT: syncCursor.updatedAt },
  defaultOrder: { field: "CONNECTOR", direction: "ASC" },
  where: (f) => and(f.connector != null ? eq(syncCursor.connector, f.connector) : undefined),
};

export const inboxEventList: ListSpec<typeof inboxEvent, InboxEventFilter> = {
  name: "InboxEvent",
  table: inboxEvent,
  id: inboxEvent.id,
  orderFields: { ID: inboxEvent.id, RECEIVED_AT: inboxEvent.receivedAt },
  defaultOrder: { field: "ID", direction: "ASC" },
  where: (f) =>
    and(
      f.source != null ? eq(inboxEvent.source, f.source) : undefined,
      f.status ? inArray(inboxEvent.status, [...f.status]) : undefined,
      f.object != null ? eq(inboxEvent.object, f.object) : undefined,
      f.receivedFrom ? gte(inboxEvent.receivedAt, f.receivedFrom) : undefined,
      f.receivedTo ? lt(inboxEvent.receivedAt, f.receivedTo) : undefined,
    ),
};

export const outboundCommandList: ListSpec<typeof outboundCommand, OutboundCommandFilter> = {
  name: "OutboundCommand",
  table: outboundCommand,
  id: outboundCommand.id,
  orderFields: {
    CREATED_AT: outboundCommand.createdAt,
    NEXT_ATTEMPT_AT: outboundCommand.nextAttemptAt,
  },
  defaultOrder: { field: "CREATED_AT", direction: "ASC" },
  where: (f) =>
    and(
      f.target ? eq(outboundCommand.target, f.target) : undefined,
      f.state ? inArray(outboundCommand.state, [...f.state]) : undefined,
      f.kind != null ? eq(outboundCommand.kind, f.kind) : undefined,
      f.entityType != null ? eq(outboundCommand.entityType, f.entityType) : undefined,
      f.entityId != null
        ? eq(outboundCommand.entityId, assertUuid(f.entityId, "filter.entityId"))
        : undefined,
    ),
};
