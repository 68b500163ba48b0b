/**
 * Batch reads behind billing's DataLoaders: each takes many keys and runs ONE statement. Each
 * statement is built once per process (per source type, per `last`) and run prepared, the keys
 * its one parameter (the kit's ./prepared.ts).
 */
import { type Db, groupBy, pgArray } from "@pshub/db";
import {
  billingEvent,
  billingRun,
  billingSchedule,
  feeScheduleItem,
  milestone,
  project,
} from "@pshub/db/schema";
import { inListPlaceholder, preparedStatement } from "@pshub/subgraph-kit";
import { and, asc, desc, eq, ne, sql } from "drizzle-orm";

type BillingEventRow = typeof billingEvent.$inferSelect;
type FeeScheduleItemRow = typeof feeScheduleItem.$inferSelect;
type SourceType = BillingEventRow["sourceType"];

/**
 * The live (READY or INVOICED) billing event of each source item, or null. When an item has
 * several live events (one per period, e.g. a retainer), the latest period wins.
 */
export async function liveEventsBySource(
  db: Db,
  sourceType: SourceType,
  sourceIds: readonly string[],
): Promise<(BillingEventRow | null)[]> {
  const query = preparedStatement(db, billingEvent, `liveBySource:${sourceType}`, () =>
    db
      .select()
      .from(billingEvent)
      .where(
        and(
          eq(billingEvent.sourceType, sourceType),
          inListPlaceholder(billingEvent.sourceId, "ids"),
          ne(billingEvent.status, "VOID"),
        ),
      )
      .orderBy(desc(billingEvent.period), desc(billingEvent.createdAt))
      .prepare(`liveEventsBySource:${sourceType}`),
  );
  const rows = await query.execute({ ids: pgArray([...new Set(sourceIds)]) });
  const first = new Map<string, BillingEventRow>();
  for (const row of rows) if (!first.has(row.sourceId)) first.set(row.sourceId, row);
  return sourceIds.map((id) => first.get(id.toLowerCase()) ?? null);
}

/** Fee schedule items per contract, by due date. */
export async function feeScheduleByContract(
  db: Db,
  contractIds: readonly string[],
): Promise<FeeScheduleItemRow[][]> {
  const query = preparedStatement(db, feeScheduleItem, "byContract", () =>
    db
      .select()
      .from(feeScheduleItem)
      .where(inListPlaceholder(feeScheduleItem.contractId, "ids"))
      .orderBy(asc(feeScheduleItem.dueDate), asc(feeScheduleItem.id))
      .prepare("feeScheduleByContract"),
  );
  const rows = await query.execute({ ids: pgArray([...new Set(contractIds)]) });
  const byContract = groupBy(rows, (row) => row.contractId);
  return contractIds.map((id) => byContract.get(id.toLowerCase()) ?? []);
}

/** Ids of the milestones of each contract's projects, by due date. */
export async function milestoneIdsByContract(
  db: Db,
  contractIds: readonly string[],
): Promise<string[][]> {
  const query = preparedStatement(db, milestone, "idsByContract", () =>
    db
      .select({ id: milestone.id, contractId: project.contractId })
      .from(milestone)
      .innerJoin(project, sql`${project.id} = ${milestone.projectId}`)
      .where(inListPlaceholder(project.contractId, "ids"))
      .orderBy(asc(milestone.dueDate), asc(milestone.id))
      .prepare("milestoneIdsByContract"),
  );
  const rows = await query.execute({ ids: pgArray([...new Set(contractIds)]) });
  const byContract = groupBy(rows, (row) => row.contractId);
  return contractIds.map((id) => (byContract.get(id.toLowerCase()) ?? []).map((row) => row.id));
}

/** The billing schedule of each contract, or null. */
export async function scheduleByContract(
  db: Db,
  contractIds: readonly string[],
): Promise<(typeof billingSchedule.$inferSelect | null)[]> {
  const query = preparedStatement(db, billingSchedule, "byContract", () =>
    db
      .select()
      .from(billingSchedule)
      .where(inListPlaceholder(billingSchedule.contractId, "ids"))
      .prepare("scheduleByContract"),
  );
  const rows = await query.execute({ ids: pgArray([...new Set(contractIds)]) });
  const byContract = new Map(rows.map((row) => [row.contractId, row]));
  return contractIds.map((id) => byContract.get(id.toLowerCase()) ?? null);
}

/** The latest `last` billing-calendar runs of each contract, newest first (one statement). */
export async function runsByContract(
  db: Db,
  contractIds: readonly string[],
  last: number,
): Promise<(typeof billingRun.$inferSelect)[][]> {
  const query = preparedStatement(db, billingRun, "latestByContract", () =>
    db
      .select()
      .from(billingRun)
      .where(
        and(
          inListPlaceholder(billingRun.contractId, "ids"),
          sql`${billingRun.id} in (select r.id from billing_run r where r.contract_id = ${billingRun.contractId}
          order by r.created_at desc, r.id desc limit ${sql.placeholder("last")})`,
        ),
      )
      .orderBy(desc(billingRun.createdAt), desc(billingRun.id))
      .prepare("runsByContract"),
  );
  const rows = await query.execute({ ids: pgArray([...new Set(contractIds)]), last });
  const byContract = groupBy(rows, (row) => row.contractId);
  return contractIds.map((id) => byContract.get(id.toLowerCase()) ?? []);
}
