/**
 * The customer subgraph's per-request loaders: the kit's generic ones plus the hierarchy walk.
 */
import { type Db, type LegalEntityScope, schema, uuidArray } from "@pshub/db";
import { RequestLoaders } from "@pshub/subgraph-kit";
import DataLoader from "dataloader";
import { sql } from "drizzle-orm";

/** Guards against a cycle that slipped past the not-own-parent check (A → B → A). */
const MAX_DEPTH = 64;

export class CustomerLoaders extends RequestLoaders {
  /** Ancestor ids of each customer, nearest first: one recursive statement per batch. */
  get ancestorIds(): DataLoader<string, string[]> {
    return this.memo(
      "ancestorIds",
      () =>
        new DataLoader<string, string[]>(async (ids) => {
          const rows = await this.db.execute<{ start: string; id: string; depth: number }>(sql`
        with recursive chain(start, id, parent_id, depth) as (
          select c.id, c.id, c.parent_id, 0
            from ${schema.customer} c where c.id = any(${uuidArray([...new Set(ids)])})
          union all
          select chain.start, p.id, p.parent_id, chain.depth + 1
            from chain join ${schema.customer} p on p.id = chain.parent_id
           where chain.depth < ${MAX_DEPTH}
        )
        select start::text as start, id::text as id, depth from chain where depth > 0
        order by start, depth`);
          const byStart = new Map<string, string[]>();
          for (const row of rows) {
            const list = byStart.get(row.start);
            if (list) list.push(row.id);
            else byStart.set(row.start, [row.id]);
          }
          return ids.map((id) => byStart.get(id) ?? []);
        }),
    );
  }
}

export function createCustomerLoaders(
  db: Db,
  warn: (message: string) => void,
  scope: LegalEntityScope,
): CustomerLoaders {
  return new CustomerLoaders(db, warn, scope);
}
