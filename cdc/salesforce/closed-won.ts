/**
 * Closed-won drives the lifecycle: an Opportunity applied as Closed Won (and not converted yet)
 * runs the same convertOpportunity operation the mutation runs, inside the applier's transaction
 * (the engine gives each hook call its own savepoint). A conversion that cannot run throws its
 * RemediableError: the engine raises it as the SALES_OPS exception naming the fields to fix, and
 * the opportunity itself stays applied. The fix arrives as a new change of the opportunity (or of
 * its account) and runs the hook again; on success the open CONVERSION_BLOCKED exception is
 * resolved. Off (SALESFORCE_AUTO_CONVERT=false): closed-won deals wait for the mutation.
 */
import { operations, pgArray, schema, type Tx } from "@pshub/db";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { AfterApplyHook } from "../engine/types.ts";

export interface ClosedWonOptions {
  autoConvert: boolean;
  actor?: string;
}

async function convertIfWon(tx: Tx, opportunityId: string, actor: string): Promise<boolean> {
  const [opp] = await tx
    .select({ stage: schema.opportunity.stage, convertedAt: schema.opportunity.convertedAt })
    .from(schema.opportunity)
    .where(eq(schema.opportunity.id, opportunityId));
  if (opp?.stage !== "CLOSED_WON" || opp.convertedAt) return false;
  await operations.convertOpportunity.run(tx, { actor, requestId: null }, { opportunityId });
  await tx
    .update(schema.syncException)
    .set({
      status: "RESOLVED",
      resolvedBy: actor,
      resolvedAt: sql`now()`,
      resolutionNote: "converted once the fix arrived from Salesforce",
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(schema.syncException.code, "CONVERSION_BLOCKED"),
        eq(schema.syncException.entityId, opportunityId),
        inArray(schema.syncException.status, ["OPEN", "RETRYING"]),
      ),
    );
  return true;
}

export function closedWonHook(options: ClosedWonOptions): AfterApplyHook {
  const actor = options.actor ?? "cdc:salesforce";
  return {
    name: "salesforce.closed-won",
    entityTypes: ["opportunity", "customer"],
    // One statement per batch: only won, unconverted deals and accounts with a blocked deal.
    async select(tx, applied) {
      if (!options.autoConvert) return [];
      const live = applied.filter((a) => !a.change.deleted);
      const ids = live.map((a) => a.entityId);
      if (ids.length === 0) return [];
      const rows = await tx.execute<{ id: string }>(sql`
        select o.id::text from opportunity o
        where o.id = any(${pgArray(ids)}::uuid[]) and o.stage = 'CLOSED_WON'
          and o.converted_at is null
        union
        select o.customer_id::text from opportunity o
        join sync_exception x on x.entity_id = o.id and x.code = 'CONVERSION_BLOCKED'
          and x.status in ('OPEN', 'RETRYING')
        where o.customer_id = any(${pgArray(ids)}::uuid[]) and o.stage = 'CLOSED_WON'
          and o.converted_at is null`);
      const due = new Set(rows.map((r) => r.id));
      return live.filter((a) => due.has(a.entityId));
    },
    async run(tx, applied) {
      if (!options.autoConvert || applied.change.deleted) return;
      if (applied.entityType === "opportunity") {
        await convertIfWon(tx, applied.entityId, actor);
        return;
      }
      // An account fix (legal entity, tax jurisdiction, hierarchy) re-triggers its blocked deals.
      const blocked = await tx
        .select({ id: schema.opportunity.id })
        .from(schema.opportunity)
        .innerJoin(
          schema.syncException,
          and(
            eq(schema.syncException.entityId, schema.opportunity.id),
            eq(schema.syncException.code, "CONVERSION_BLOCKED"),
            inArray(schema.syncException.status, ["OPEN", "RETRYING"]),
          ),
        )
        .where(
          and(
            eq(schema.opportunity.customerId, applied.entityId),
            eq(schema.opportunity.stage, "CLOSED_WON"),
            isNull(schema.opportunity.convertedAt),
          ),
        );
      for (const { id } of blocked) await convertIfWon(tx, id, actor);
    },
  };
}
