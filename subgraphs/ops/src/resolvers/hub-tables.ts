/**
 * The hub's own tables as read-only connections (declared in ../../sdl/DomainEvent.graphql,
 * AuditLogEntry, SourceLink, SyncCursor, InboxEvent and OutboundCommand): bigserial ids become ID
 * strings, jsonb columns JSON text.
 */
import { paginate } from "@pshub/subgraph-kit";
import type {
  AuditLogEntryResolvers,
  InboxEventResolvers,
  LineageEventResolvers,
  OutboundCommandResolvers,
  QueryResolvers,
  SyncCursorResolvers,
} from "../__generated__/resolvers-types.ts";
import {
  auditLogList,
  domainEventList,
  inboxEventList,
  outboundCommandList,
  sourceLinkList,
  syncCursorList,
} from "../data/hub-lists.ts";

/** jsonb → JSON text; SQL null stays null. */
const json = (value: unknown): string | null => (value == null ? null : JSON.stringify(value));

export const hubTableQueries: Pick<
  QueryResolvers,
  "domainEvents" | "auditLog" | "sourceLinks" | "syncCursors" | "inboxEvents" | "outboundCommands"
> = {
  domainEvents: (_, args, ctx, info) =>
    paginate(ctx.db, domainEventList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  auditLog: (_, args, ctx, info) =>
    paginate(ctx.db, auditLogList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  sourceLinks: (_, args, ctx, info) =>
    paginate(ctx.db, sourceLinkList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  syncCursors: (_, args, ctx, info) =>
    paginate(ctx.db, syncCursorList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  inboxEvents: (_, args, ctx, info) =>
    paginate(ctx.db, inboxEventList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  outboundCommands: (_, args, ctx, info) =>
    paginate(ctx.db, outboundCommandList, args, { info, warn: ctx.warn, scope: ctx.scope }),
};

export const LineageEvent: LineageEventResolvers = {
  id: (event) => String(event.id),
  payload: (event) => JSON.stringify(event.payload),
};

export const AuditLogEntry: AuditLogEntryResolvers = {
  id: (entry) => String(entry.id),
  input: (entry) => json(entry.input),
};

export const SyncCursor: SyncCursorResolvers = {
  cursor: (row) => JSON.stringify(row.cursor),
};

export const InboxEvent: InboxEventResolvers = {
  id: (event) => String(event.id),
  payload: (event) => JSON.stringify(event.payload),
  ignoredFields: (event) => event.ignoredFields ?? [],
};

export const OutboundCommand: OutboundCommandResolvers = {
  seq: (command) => String(command.seq),
  exceptions: (command, _, ctx) => ctx.loaders.exceptionsOfCommand().load(command.id),
  payload: (command) => JSON.stringify(command.payload),
  result: (command) => json(command.result),
};
