/**
 * Relay keyset pagination over drizzle tables.
 *
 * A page is ordered by (sort column, id), both in the requested direction, and a cursor is the
 * opaque base64url of { field, direction, sort value as Postgres text (or null), id }: the next
 * page is `(sort, id) > (cursor.sort, cursor.id)` — stable under inserts, no OFFSET.
 *
 * A nullable sort column puts its NULLs last in both directions (ASC NULLS LAST, DESC NULLS LAST)
 * and the keyset condition handles them explicitly: after a non-null cursor come the greater
 * values and then every NULL; after a NULL cursor, only NULLs with a greater id. A backward page
 * reads the reverse order (NULLs first) and is flipped afterwards. NOT NULL columns keep the plain
 * row comparison and plain ORDER BY, so their indexes serve the page as before.
 * `totalCount` is one `count(*)` statement, run only when the client selects it.
 *
 * Nested connections (Customer.contacts, Project.timeEntries, …) go through
 * {@link createConnectionLoader}: all parents of a batch are paged in ONE statement with
 * `row_number() over (partition by parent …)`, and their counts in one more.
 */
import { type Db, inLegalEntityScope, type LegalEntityScope, pgArray } from "@pshub/db";
import DataLoader from "dataloader";
import {
  and,
  count,
  getTableColumns,
  type SQL,
  sql,
  type Table,
  type TableConfig,
} from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  Kind,
  type SelectionSetNode,
} from "graphql";
import { z } from "zod";
import { BadUserInputError } from "./errors.ts";
import { castType, inListPlaceholder } from "./filters.ts";
import { preparedStatement, scopeKey } from "./prepared.ts";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export type OrderDirection = "ASC" | "DESC";

/** The standard connection arguments; `filter` and `orderBy` are per type. */
export interface ConnectionArgs<TFilter = unknown, TField extends string = string> {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: TFilter | null;
  orderBy?: { field?: TField | null; direction?: OrderDirection | null } | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  /** Rows matching the filter (ignoring paging). 0 when the selection did not ask for it. */
  totalCount: number;
}

type AnyTable = PgTable<TableConfig>;

/** How one table is listed: its sort fields (GraphQL enum value → column) and filter. */
export interface ListSpec<TTable extends AnyTable, TFilter = unknown> {
  /** Entity name, used in messages and loader keys, e.g. "Customer". */
  name: string;
  table: TTable;
  /** The unique tie-breaker, normally `table.id`. */
  id: PgColumn;
  orderFields: Record<string, PgColumn>;
  defaultOrder: { field: string; direction: OrderDirection };
  /** The filter input → a SQL condition (undefined = no condition). */
  where?: (filter: TFilter) => SQL | undefined;
}

export type Row<TTable extends AnyTable> = TTable["$inferSelect"];

export interface PageOptions {
  /** Ask for totalCount? Default: whatever `info` selects; true when there is no `info`. */
  countTotal?: boolean;
  info?: GraphQLResolveInfo;
  /** Collects warnings (e.g. a capped page size) for `extensions.warnings`. */
  warn?: (message: string) => void;
  /** An extra condition, e.g. a parent id for a hand-written nested list. */
  where?: SQL;
  /**
   * The caller's legal-entity scope (`ctx.scope`); required so that no list forgets it. The rows
   * and the totalCount are both limited to it, in SQL.
   */
  scope: LegalEntityScope;
}

// ---------------------------------------------------------------------------------------------
// Cursors
// ---------------------------------------------------------------------------------------------

const cursorSchema = z.object({
  f: z.string(),
  d: z.enum(["ASC", "DESC"]),
  /** The sort value as Postgres text; null for a row whose (nullable) sort column is NULL. */
  v: z.string().nullable(),
  i: z.string().min(1),
});
type CursorData = z.infer<typeof cursorSchema>;

export function encodeCursor(data: CursorData): string {
  return Buffer.from(JSON.stringify(data), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string, argName = "cursor"): CursorData {
  try {
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(cursor)) throw new Error("not base64url");
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new BadUserInputError(`\`${argName}\` is not a valid cursor: ${JSON.stringify(cursor)}`, {
      argumentName: argName,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Argument handling
// ---------------------------------------------------------------------------------------------

export interface ResolvedPage {
  limit: number;
  backward: boolean;
  field: string;
  direction: OrderDirection;
  column: PgColumn;
  cursor: CursorData | undefined;
}

/** Validates first/last/after/before/orderBy; caps the page size at MAX_PAGE_SIZE with a warning. */
export function resolvePage(
  spec: ListSpec<AnyTable, never>,
  args: ConnectionArgs,
  warn?: (message: string) => void,
): ResolvedPage {
  const { first, last, after, before } = args;
  if (first != null && last != null) {
    throw new BadUserInputError("Pass either `first` or `last`, not both");
  }
  if (after != null && before != null) {
    throw new BadUserInputError("Pass either `after` or `before`, not both");
  }
  if (last != null && after != null) {
    throw new BadUserInputError("`last` pages backward: use it with `before`, not `after`");
  }
  if (first != null && before != null) {
    throw new BadUserInputError("`first` pages forward: use it with `after`, not `before`");
  }
  const requested = first ?? last ?? DEFAULT_PAGE_SIZE;
  const argName = last != null ? "last" : "first";
  if (!Number.isInteger(requested) || requested < 0) {
    throw new BadUserInputError(`\`${argName}\` must be a non-negative integer`, {
      argumentName: argName,
    });
  }
  let limit = requested;
  if (limit > MAX_PAGE_SIZE) {
    limit = MAX_PAGE_SIZE;
    warn?.(
      `${spec.name}: \`${argName}: ${requested}\` exceeds the maximum page size; capped at ${MAX_PAGE_SIZE}. Page on with \`${argName === "first" ? "after: pageInfo.endCursor" : "before: pageInfo.startCursor"}\`.`,
    );
  }
  const field = args.orderBy?.field ?? spec.defaultOrder.field;
  const direction = args.orderBy?.direction ?? spec.defaultOrder.direction;
  const column = spec.orderFields[field];
  if (!column) throw new BadUserInputError(`${spec.name} cannot be ordered by ${field}`);
  const backward = last != null || before != null;
  const raw = backward ? before : after;
  const argCursor = backward ? "before" : "after";
  const cursor = raw == null ? undefined : decodeCursor(raw, argCursor);
  if (cursor && (cursor.f !== field || cursor.d !== direction)) {
    throw new BadUserInputError(
      `\`${argCursor}\` was issued for orderBy ${cursor.f} ${cursor.d}, not ${field} ${direction}`,
      { argumentName: argCursor },
    );
  }
  return { limit, backward, field, direction, column, cursor };
}

/** Effective SQL direction: a backward page reads in reverse and is flipped afterwards. */
function sqlDirection(page: ResolvedPage): "asc" | "desc" {
  const asc = (page.direction === "ASC") !== page.backward;
  return asc ? "asc" : "desc";
}

/** NULLs sort last in the requested direction, so a backward page (read reversed) meets them first. */
function nullable(page: ResolvedPage): boolean {
  return !page.column.notNull;
}

function keysetCondition(spec: ListSpec<AnyTable, never>, page: ResolvedPage): SQL | undefined {
  if (!page.cursor) return undefined;
  const op = sql.raw(sqlDirection(page) === "asc" ? ">" : "<");
  const idType = sql.raw(castType(spec.id));
  const id = sql`cast(${page.cursor.i} as ${idType})`;
  const column = page.column;
  if (page.cursor.v === null) {
    if (!nullable(page)) {
      throw new BadUserInputError(
        `\`${page.backward ? "before" : "after"}\` is not a valid cursor for ${spec.name} ordered by ${page.field}`,
        { argumentName: page.backward ? "before" : "after" },
      );
    }
    // Forward: only the NULLs after this one remain. Backward (NULLs first): the NULLs before
    // this one, then every non-null value.
    return page.backward
      ? sql`(${column} is not null or ${spec.id} ${op} ${id})`
      : sql`(${column} is null and ${spec.id} ${op} ${id})`;
  }
  const sortType = sql.raw(castType(column));
  const after = sql`(${column}, ${spec.id}) ${op} (cast(${page.cursor.v} as ${sortType}), ${id})`;
  // A row comparison with a NULL column is NULL (not true): forward, the NULLs still follow.
  return nullable(page) && !page.backward ? sql`(${after} or ${column} is null)` : after;
}

/** ORDER BY terms: (sort, id) in the read direction, NULLs last for the requested direction. */
function orderSql(spec: ListSpec<AnyTable, never>, page: ResolvedPage): SQL[] {
  const dir = sql.raw(sqlDirection(page));
  const nulls = nullable(page) ? sql.raw(page.backward ? " nulls first" : " nulls last") : sql``;
  return [sql`${page.column} ${dir}${nulls}`, sql`${spec.id} ${dir}`];
}

type WithSort<T> = T & { __sort: string | null };

/** Turns up to limit+1 rows (in SQL order) into a connection. */
function toConnection<T extends Record<string, unknown>>(
  rows: WithSort<T>[],
  page: ResolvedPage,
  idKey: string,
  totalCount: number,
): Connection<T> {
  const hasMore = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  if (page.backward) pageRows.reverse();
  const edges = pageRows.map(({ __sort, ...node }) => ({
    cursor: encodeCursor({
      f: page.field,
      d: page.direction,
      v: __sort,
      i: String(node[idKey]),
    }),
    node: node as unknown as T,
  }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    totalCount,
    pageInfo: {
      hasNextPage: page.backward ? page.cursor !== undefined : hasMore,
      hasPreviousPage: page.backward ? hasMore : page.cursor !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

function idKeyOf(table: AnyTable, id: PgColumn): string {
  const entry = Object.entries(getTableColumns(table)).find(([, column]) => column === id);
  if (!entry) throw new Error("ListSpec.id must be a column of ListSpec.table");
  return entry[0];
}

function wantsCount(options: PageOptions): boolean {
  if (options.countTotal !== undefined) return options.countTotal;
  if (!options.info) return true;
  return selectsField(options.info, "totalCount");
}

/** Does the current field's selection (through fragments) include `name` directly? */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const visit = (set: SelectionSetNode | undefined, seen: Set<string>): boolean => {
    if (!set) return false;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD && selection.name.value === name) return true;
      if (selection.kind === Kind.INLINE_FRAGMENT && visit(selection.selectionSet, seen)) {
        return true;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment: FragmentDefinitionNode | undefined = info.fragments[selection.name.value];
        if (fragment && visit(fragment.selectionSet, seen)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((node: FieldNode) => visit(node.selectionSet, new Set()));
}

// ---------------------------------------------------------------------------------------------
// Top-level lists
// ---------------------------------------------------------------------------------------------

/**
 * One page of a table: one SELECT (limit+1 rows to know hasNextPage) and, when totalCount is
 * selected, one `count(*)` — run in parallel.
 */
export async function paginate<TTable extends AnyTable, TFilter>(
  db: Db,
  spec: ListSpec<TTable, TFilter>,
  args: ConnectionArgs<TFilter>,
  options: PageOptions,
): Promise<Connection<Row<TTable>>> {
  const anySpec = spec as unknown as ListSpec<AnyTable, never>;
  const page = resolvePage(anySpec, args, options.warn);
  const countTotal = wantsCount(options);
  const build = () => {
    const filterSql = args.filter != null && spec.where ? spec.where(args.filter) : undefined;
    const base = and(
      filterSql,
      options.where,
      inLegalEntityScope(spec.table as AnyTable, options.scope),
    );
    // limit+1 rows: the extra one only tells hasNextPage (so `first: 0` still reads one row).
    const rows = db
      .select({
        ...getTableColumns(spec.table as AnyTable),
        __sort: sql<string | null>`${page.column}::text`,
      })
      .from(spec.table as AnyTable)
      .where(and(base, keysetCondition(anySpec, page)))
      .orderBy(...orderSql(anySpec, page))
      .limit(page.limit + 1)
      .prepare(`page:${spec.name}`);
    const counts = countTotal
      ? db
          .select({ n: count() })
          .from(spec.table as AnyTable)
          .where(base)
          .prepare(`count:${spec.name}`)
      : undefined;
    return { rows, counts };
  };
  // Built once per process for the same arguments and scope (./prepared.ts); a cursor page or a
  // caller's own condition is built for this call.
  const statement =
    page.cursor || options.where
      ? build()
      : preparedStatement(
          db,
          spec,
          `page|${JSON.stringify([args.first, args.last, args.filter, args.orderBy, countTotal])}|${scopeKey(options.scope)}`,
          build,
        );
  const [rows, totalCount] = await Promise.all([
    statement.rows.execute(),
    statement.counts ? statement.counts.execute().then((r) => r[0]?.n ?? 0) : 0,
  ]);
  return toConnection(
    rows as WithSort<Row<TTable>>[],
    page,
    idKeyOf(spec.table, spec.id),
    totalCount,
  );
}

// ---------------------------------------------------------------------------------------------
// Nested (per-parent) connections, batched
// ---------------------------------------------------------------------------------------------

export interface ConnectionKey<TFilter = unknown> {
  parentId: string;
  args: ConnectionArgs<TFilter>;
  countTotal: boolean;
}

/**
 * A DataLoader for a per-parent connection, e.g. contacts by customer_id. Keys with the same
 * arguments share a statement: `row_number() over (partition by parent order by sort, id)` keeps
 * limit+1 rows per parent in ONE query; totalCount (if asked) is one `group by parent` query.
 * Paging arguments apply to every parent alike (a cursor from parent A used under parent B
 * simply starts after A's position).
 */
export function createConnectionLoader<TTable extends AnyTable, TFilter>(
  db: Db,
  spec: ListSpec<TTable, TFilter>,
  parentColumn: PgColumn,
  warn: ((message: string) => void) | undefined,
  /** The caller's legal-entity scope: rows and counts are limited to it. */
  legalEntities: LegalEntityScope,
): DataLoader<ConnectionKey<TFilter>, Connection<Row<TTable>>, string> {
  const anySpec = spec as unknown as ListSpec<AnyTable, never>;
  const idKey = idKeyOf(spec.table, spec.id);
  const table = spec.table as unknown as Table;
  const signature = (key: ConnectionKey<TFilter>) =>
    JSON.stringify([
      key.args.first,
      key.args.after,
      key.args.last,
      key.args.before,
      key.args.filter,
      key.args.orderBy,
      key.countTotal,
    ]);

  /**
   * The page and count statements for one set of arguments, the parents' ids a placeholder
   * (`parents`). Without a cursor they are built once per process (./prepared.ts): the same
   * arguments, countTotal and scope give the same text and the same fixed parameters.
   */
  function statements(first: ConnectionKey<TFilter>, page: ResolvedPage) {
    const build = () => buildStatements(first, page);
    if (page.cursor) return build();
    const key = `connection:${parentColumn.name}|${signature(first)}|${scopeKey(legalEntities)}`;
    return preparedStatement(db, spec, key, build);
  }

  function buildStatements(first: ConnectionKey<TFilter>, page: ResolvedPage) {
    const filterSql =
      first.args.filter != null && spec.where ? spec.where(first.args.filter) : undefined;
    const scope = and(
      inListPlaceholder(parentColumn, "parents"),
      filterSql,
      inLegalEntityScope(spec.table as AnyTable, legalEntities),
    );
    const [sortTerm, idTerm] = orderSql(anySpec, page);
    const ranked = db
      .select({
        id: spec.id,
        rn: sql<number>`row_number() over (partition by ${parentColumn} order by ${sortTerm}, ${idTerm})`.as(
          "rn",
        ),
      })
      .from(table)
      .where(and(scope, keysetCondition(anySpec, page)))
      .as("ranked");
    const rows = db
      .select({
        ...getTableColumns(table),
        __sort: sql<string | null>`${page.column}::text`,
        __parent: sql<string>`${parentColumn}::text`,
      })
      .from(table)
      .where(
        sql`${spec.id} in ${db
          .select({ id: ranked.id })
          .from(ranked)
          .where(sql`${ranked.rn} <= ${page.limit + 1}`)}`,
      )
      .orderBy(...orderSql(anySpec, page))
      .prepare(`connection:${spec.name}`);
    const counts = first.countTotal
      ? db
          .select({ parent: sql<string>`${parentColumn}::text`, n: count() })
          .from(table)
          .where(scope)
          .groupBy(parentColumn)
          .prepare(`connection-count:${spec.name}`)
      : undefined;
    return { rows, counts };
  }

  async function loadGroup(keys: ConnectionKey<TFilter>[]) {
    const first = keys[0]!;
    const page = resolvePage(anySpec, first.args, warn);
    const parents = pgArray([...new Set(keys.map((k) => k.parentId))]);
    const statement = statements(first, page);
    const [rows, counts] = await Promise.all([
      statement.rows.execute({ parents }),
      statement.counts ? statement.counts.execute({ parents }) : [],
    ]);
    const byParent = new Map<string, WithSort<Row<TTable>>[]>();
    for (const { __parent, ...row } of rows as (WithSort<Row<TTable>> & { __parent: string })[]) {
      const list = byParent.get(__parent);
      if (list) list.push(row as WithSort<Row<TTable>>);
      else byParent.set(__parent, [row as WithSort<Row<TTable>>]);
    }
    const countByParent = new Map(counts.map((c) => [c.parent, c.n]));
    return keys.map((key) =>
      toConnection(
        byParent.get(key.parentId) ?? [],
        page,
        idKey,
        countByParent.get(key.parentId) ?? 0,
      ),
    );
  }

  return new DataLoader<ConnectionKey<TFilter>, Connection<Row<TTable>>, string>(
    async (keys) => {
      const groups = new Map<string, number[]>();
      keys.forEach((key, index) => {
        const sig = signature(key);
        const list = groups.get(sig);
        if (list) list.push(index);
        else groups.set(sig, [index]);
      });
      const results: (Connection<Row<TTable>> | Error)[] = new Array(keys.length);
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          try {
            const connections = await loadGroup(indexes.map((i) => keys[i]!));
            indexes.forEach((i, n) => {
              results[i] = connections[n]!;
            });
          } catch (error) {
            for (const i of indexes) results[i] = error as Error;
          }
        }),
      );
      return results;
    },
    { cacheKeyFn: (key) => `${key.parentId}|${signature(key)}` },
  );
}
