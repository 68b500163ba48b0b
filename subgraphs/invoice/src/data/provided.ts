import { selectsField } from "@pshub/subgraph-kit";
import type { PgTable, TableConfig } from "drizzle-orm/pg-core";
import type { GraphQLResolveInfo } from "graphql";
import type { Context } from "../context.ts";

/**
 * An entity whose fields the SDL provides here (@provides): its row (kit byId, legal-entity
 * scoped) when the plan asks for one of `fields`, else the key alone for its owning subgraph to
 * resolve. A row outside the caller's scope reads as absent: the key alone, as the owner would.
 */
export async function providedOrKey<TTable extends PgTable<TableConfig>>(
  ctx: Context,
  info: GraphQLResolveInfo,
  table: TTable,
  id: string,
  fields: readonly string[],
) {
  if (!fields.some((field) => selectsField(info, field))) return { id };
  return (await ctx.loaders.byId(table).load(id)) ?? { id };
}
