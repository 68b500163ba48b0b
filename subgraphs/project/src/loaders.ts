/**
 * The project subgraph's per-request loaders: the kit's generic ones plus hour totals.
 */
import { type Db, type LegalEntityScope, pgArray } from "@pshub/db";
import { project, timeEntry } from "@pshub/db/schema";
import { inListPlaceholder, preparedStatement, RequestLoaders } from "@pshub/subgraph-kit";
import DataLoader from "dataloader";
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { ProjectHoursMapper } from "./mappers.ts";

/** sum(hours) of the entries matching `condition`, as numeric(14,2) text ("0.00" when none). */
const hoursWhere = (condition: ReturnType<typeof sql>) =>
  sql<string>`coalesce(sum(${timeEntry.hours}) filter (where ${condition}), 0)::numeric(14,2)::text`;

export class ProjectLoaders extends RequestLoaders {
  /**
   * Hour totals per project: one grouped statement per batch, built once per process and run
   * prepared (the kit's ./prepared.ts).
   */
  get projectHours(): DataLoader<string, ProjectHoursMapper> {
    return this.memo(
      "projectHours",
      () =>
        new DataLoader<string, ProjectHoursMapper>(async (ids) => {
          const query = preparedStatement(this.db, project, "hours", () => {
            const notRejected = sql`${ne(timeEntry.status, "REJECTED")}`;
            return this.db
              .select({
                id: sql<string>`${project.id}::text`,
                total: hoursWhere(notRejected),
                submitted: hoursWhere(sql`${eq(timeEntry.status, "SUBMITTED")}`),
                approved: hoursWhere(sql`${eq(timeEntry.status, "APPROVED")}`),
                billed: hoursWhere(sql`${eq(timeEntry.status, "BILLED")}`),
                billable: hoursWhere(
                  sql`${and(eq(timeEntry.billable, true), inArray(timeEntry.status, ["APPROVED", "BILLED"]))}`,
                ),
                remaining: sql<
                  string | null
                >`(${project.budgetHours} - coalesce(sum(${timeEntry.hours}) filter (where ${notRejected}), 0))::numeric(14,2)::text`,
              })
              .from(project)
              .leftJoin(timeEntry, eq(timeEntry.projectId, project.id))
              .where(inListPlaceholder(project.id, "ids"))
              .groupBy(project.id)
              .prepare("projectHours");
          });
          const rows = await query.execute({ ids: pgArray([...new Set(ids)]) });
          const byId = new Map(rows.map(({ id, ...hours }) => [id, hours]));
          const none = {
            total: "0.00",
            submitted: "0.00",
            approved: "0.00",
            billed: "0.00",
            billable: "0.00",
            remaining: null,
          };
          return ids.map((id) => byId.get(id) ?? none);
        }),
    );
  }
}

export function createProjectLoaders(
  db: Db,
  warn: (message: string) => void,
  scope: LegalEntityScope,
): ProjectLoaders {
  return new ProjectLoaders(db, warn, scope);
}
