/**
 * Lineage: the ordered chain of domain events and entities behind an entity. The chain is held
 * together by the correlation id minted at opportunity conversion and carried by the contract,
 * project, billing events, invoices and payments (see ../domain-events.ts).
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "../client.ts";
import { NotFoundError, ValidationError } from "../errors.ts";
import {
  inLegalEntityScope,
  type LegalEntityScope,
  referenceInLegalEntityScope,
} from "../legal-entity-scope.ts";
import { domainEvent } from "../schema.ts";
import { id, parseInput } from "./operation.ts";

export const lineageEntityTypes = [
  "opportunity",
  "customer",
  "contract",
  "project",
  "milestone",
  "time_entry",
  "expense",
  "billing_event",
  "invoice",
  "payment",
  "dispute",
] as const;
export type LineageEntityType = (typeof lineageEntityTypes)[number];

export interface LineageEvent {
  id: number;
  type: string;
  entityType: string;
  entityId: string;
  payload: Record<string, unknown>;
  actor: string;
  causationId: string | null;
  /** The lifecycle's correlation id (the same for every event of one chain). */
  correlationId: string | null;
  occurredAt: Date;
}

export interface LineageEntity {
  entityType: string;
  entityId: string;
  /** Id of the first event that names this entity (entities are ordered by it). */
  firstEventId: number;
  eventCount: number;
}

export interface Lineage {
  entityType: string;
  entityId: string;
  /** The lineage id; null when the entity belongs to no converted opportunity. */
  correlationId: string | null;
  events: LineageEvent[];
  entities: LineageEntity[];
  /** True when more events exist after the last returned one (page with afterEventId). */
  hasMore: boolean;
}

const lineageInput = z.object({
  entityType: z.enum(lineageEntityTypes),
  id: id(),
  first: z.number().int().min(1).max(2000).default(500),
  afterEventId: z.number().int().min(0).default(0),
});

/** The correlation id of an entity, from its own column or its parent's. */
function correlationQuery(entityType: LineageEntityType, entityId: string) {
  switch (entityType) {
    case "opportunity":
      return sql`select correlation_id from contract where opportunity_id = ${entityId}
        union all select null where exists (select 1 from opportunity where id = ${entityId})`;
    case "contract":
    case "project":
    case "billing_event":
    case "invoice":
    case "payment":
      return sql`select correlation_id from ${sql.identifier(entityType)} where id = ${entityId}`;
    case "milestone":
    case "time_entry":
    case "expense":
      return sql`select p.correlation_id from ${sql.identifier(entityType)} x join project p on p.id = x.project_id where x.id = ${entityId}`;
    case "dispute":
      return sql`select i.correlation_id from dispute d join invoice i on i.id = d.invoice_id where d.id = ${entityId}`;
    case "customer":
      // A customer may have several chains: the lineage is that of its customer events only.
      return sql`select null::uuid as correlation_id from customer where id = ${entityId}`;
  }
}

export async function lineage(
  db: Db | Tx,
  raw: { entityType: string; id: string; first?: number; afterEventId?: number },
  /** The caller's legal-entity scope: the root must be inside it, and so must every event shown. */
  scope?: LegalEntityScope,
): Promise<Lineage> {
  const input = parseInput(lineageInput, raw);
  const rootInScope = referenceInLegalEntityScope(
    sql`${input.entityType}::text`,
    sql`${input.id}::uuid`,
    scope,
  );
  if (rootInScope) {
    const [visible] = await db.execute<{ ok: boolean }>(sql`select ${rootInScope} as ok`);
    if (!visible?.ok) throw new NotFoundError(input.entityType, input.id);
  }
  const rows = await db.execute<{ correlation_id: string | null }>(
    correlationQuery(input.entityType, input.id),
  );
  if (rows.length === 0) throw new NotFoundError(input.entityType, input.id);
  const correlationId = rows.find((r) => r.correlation_id)?.correlation_id ?? null;
  if (!correlationId && input.entityType !== "customer" && input.entityType !== "opportunity") {
    throw new ValidationError(
      `${input.entityType} ${input.id} has no lineage (no correlation id)`,
      {
        field: "id",
      },
    );
  }
  const chain = correlationId
    ? sql`correlation_id = ${correlationId}`
    : sql`entity_type = ${input.entityType} and entity_id = ${input.id}`;
  const eventsInScope = inLegalEntityScope(domainEvent, scope);
  const where = eventsInScope ? sql`${chain} and ${eventsInScope}` : chain;
  const events = await db.execute<{
    id: string;
    type: string;
    entity_type: string;
    entity_id: string;
    payload: Record<string, unknown>;
    actor: string;
    causation_id: string | null;
    correlation_id: string | null;
    occurred_at: string;
  }>(sql`
    select id, type, entity_type, entity_id, payload, actor, causation_id, correlation_id, occurred_at
    from domain_event where ${where} and id > ${input.afterEventId}
    order by id limit ${input.first + 1}`);
  const entities = await db.execute<{
    entity_type: string;
    entity_id: string;
    first_event_id: string;
    event_count: number;
  }>(sql`
    select entity_type, entity_id, min(id) as first_event_id, count(*)::int as event_count
    from domain_event where ${where}
    group by entity_type, entity_id order by min(id)`);
  const page = events.slice(0, input.first);
  return {
    entityType: input.entityType,
    entityId: input.id,
    correlationId,
    hasMore: events.length > input.first,
    events: page.map((e) => ({
      id: Number(e.id),
      type: e.type,
      entityType: e.entity_type,
      entityId: e.entity_id,
      payload: e.payload,
      actor: e.actor,
      causationId: e.causation_id,
      correlationId: e.correlation_id,
      occurredAt: new Date(e.occurred_at),
    })),
    entities: entities.map((e) => ({
      entityType: e.entity_type,
      entityId: e.entity_id,
      firstEventId: Number(e.first_event_id),
      eventCount: Number(e.event_count),
    })),
  };
}
