/**
 * resyncEntity: re-fetch one canonical entity from its source(s) now. The request is a row
 * (durable: a CDC process that is down picks it up when it starts) plus a NOTIFY on
 * 'pshub_resync' (wake-up only). The CDC process claims it with FOR UPDATE SKIP LOCKED, calls
 * the connector's fetchOne, ingests the record, and records the outcome here.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "../client.ts";
import { DomainError } from "../errors.ts";
import { defineOperation, id } from "../lifecycle/operation.ts";
import { resyncRequest } from "../schema.ts";
import { pgArray, uuidArray } from "../sql-array.ts";
import { ENTITY_SPECS, type SyncEntityType } from "./entities.ts";

export const RESYNC_CHANNEL = "pshub_resync";

export type ResyncRequestRow = typeof resyncRequest.$inferSelect;

/**
 * Queues one resync per source record linked to the entity. NOT_FOUND when nothing links the
 * entity to a source (it was created in the hub, or it does not exist).
 */
export async function requestResync(
  tx: Tx,
  input: { entityType: string; entityId: string; actor: string },
): Promise<ResyncRequestRow[]> {
  const rows = await tx.execute<{ id: string }>(sql`
    insert into resync_request (entity_type, entity_id, system, object, external_id, requested_by)
    select entity_type, entity_id, system, object, external_id, ${input.actor}
    from source_link where entity_type = ${input.entityType} and entity_id = ${input.entityId}
    returning id`);
  if (rows.length === 0) {
    throw new DomainError(
      "NOT_FOUND",
      `${input.entityType} ${input.entityId} is linked to no source record: nothing to resync`,
      { entityType: input.entityType, id: input.entityId },
    );
  }
  await tx.execute(sql`select pg_notify(${RESYNC_CHANNEL}, ${input.entityId})`);
  const ids = rows.map((r) => r.id);
  return (await tx.execute(sql`
    select id, entity_type as "entityType", entity_id as "entityId", system, object,
      external_id as "externalId", requested_by as "requestedBy", state, attempts, result,
      inbox_event_id::int as "inboxEventId", created_at as "createdAt", completed_at as "completedAt"
    from resync_request where id = any(${uuidArray(ids)}) order by created_at, id`)) as unknown as ResyncRequestRow[];
}

const ENTITY_TYPES = Object.keys(ENTITY_SPECS) as [SyncEntityType, ...SyncEntityType[]];

/**
 * `resyncEntity(entityType, id)` as an operation (execute / executeAs): one transaction, the
 * input parsed (a bad entity type or id is BAD_USER_INPUT), and an audit row — refusals included.
 */
export const resyncEntity = defineOperation({
  name: "resyncEntity",
  input: z.object({
    entityType: z.enum(ENTITY_TYPES, {
      error: `entityType must be one of ${ENTITY_TYPES.join(", ")}`,
    }),
    id: id(),
  }),
  run: (tx, ctx, input) =>
    requestResync(tx, { entityType: input.entityType, entityId: input.id, actor: ctx.actor }),
  auditRef: (input) => ({ entityType: input.entityType, entityId: input.id }),
});

export interface ClaimedResync {
  id: string;
  entityType: string;
  entityId: string;
  system: "SALESFORCE" | "PSA" | "ERP";
  object: string;
  externalId: string;
  attempts: number;
}

/** Claims pending requests of the given systems (the CDC process's connectors). */
export async function claimResyncs(
  tx: Tx,
  systems: string[],
  limit = 20,
): Promise<ClaimedResync[]> {
  const rows = await tx.execute<{
    id: string;
    entity_type: string;
    entity_id: string;
    system: ClaimedResync["system"];
    object: string;
    external_id: string;
    attempts: number;
  }>(sql`
    update resync_request set attempts = attempts + 1 where id in (
      select id from resync_request where state = 'PENDING'
        and system::text = any(${pgArray(systems)}::text[])
      order by created_at limit ${limit} for update skip locked)
    returning id, entity_type, entity_id, system, object, external_id, attempts`);
  return rows.map((r) => ({
    id: r.id,
    entityType: r.entity_type,
    entityId: r.entity_id,
    system: r.system,
    object: r.object,
    externalId: r.external_id,
    attempts: r.attempts,
  }));
}

export async function completeResync(
  tx: Tx,
  id: string,
  outcome: { state: "DONE" | "FAILED" | "PENDING"; result: string; inboxEventId?: number | null },
): Promise<void> {
  await tx.execute(sql`
    update resync_request set state = ${outcome.state}::resync_state, result = ${outcome.result},
      inbox_event_id = coalesce(${outcome.inboxEventId ?? null}::bigint, inbox_event_id),
      completed_at = case when ${outcome.state} = 'PENDING' then null else now() end
    where id = ${id}`);
}
