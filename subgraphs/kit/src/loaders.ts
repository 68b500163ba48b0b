/**
 * Per-request DataLoaders. A request gets one {@link RequestLoaders}; each (table, key column)
 * pair gets ONE loader the first time a resolver asks for it, and every batch is ONE SQL
 * statement (`where key = any($1)`). So the statements a request runs are bounded by its depth,
 * not by its row count.
 */
import { type Db, inLegalEntityScope, type LegalEntityScope, pgArray } from "@pshub/db";
import DataLoader from "dataloader";
import { and, getTableColumns, getTableName, sql, type TableConfig } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { GraphQLResolveInfo } from "graphql";
import { BadUserInputError, NotFoundGraphQLError } from "./errors.ts";
import { inListPlaceholder, isUuid } from "./filters.ts";
import {
  type Connection,
  type ConnectionArgs,
  type ConnectionKey,
  createConnectionLoader,
  type ListSpec,
  type Row,
  selectsField,
} from "./pagination.ts";
import { preparedStatement, scopeKey } from "./prepared.ts";

type AnyTable = PgTable<TableConfig>;

/**
 * A loader over a batch function that takes uuids and answers one value per id, in order. Keys
 * that are not uuids answer `empty` without reaching the database (so a malformed id in a
 * reference or a parent row is "nothing there", not a SQL error).
 */
export function uuidLoader<V>(
  batch: (ids: string[]) => Promise<V[]>,
  empty: V,
): DataLoader<string, V> {
  return new DataLoader<string, V>(async (keys) => {
    const valid = keys.filter(isUuid);
    const values = valid.length ? await batch(valid) : [];
    const byKey = new Map(valid.map((key, i) => [key, values[i] as V]));
    return keys.map((key) => (byKey.has(key) ? (byKey.get(key) as V) : empty));
  });
}

export class RequestLoaders {
  private readonly cache = new Map<string, DataLoader<unknown, unknown, unknown>>();

  constructor(
    readonly db: Db,
    /** Receives warnings for `extensions.warnings` (capped page sizes). */
    readonly warn: (message: string) => void = () => {},
    /**
     * The principal's legal-entity scope: every loader of this request reads only rows inside it
     * (a by-id or reference lookup of another entity's row finds nothing). Undefined = all.
     */
    readonly scope: LegalEntityScope = undefined,
  ) {}

  /** The scope condition for `table` (undefined when unscoped): for hand-written batches. */
  inScope(table: AnyTable) {
    return inLegalEntityScope(table, this.scope);
  }

  /** The loader named `key`, created on first use in this request. */
  memo<K, V, C = K>(key: string, create: () => DataLoader<K, V, C>): DataLoader<K, V, C> {
    let loader = this.cache.get(key);
    if (!loader) {
      loader = create() as DataLoader<unknown, unknown, unknown>;
      this.cache.set(key, loader);
    }
    return loader as unknown as DataLoader<K, V, C>;
  }

  /**
   * Rows by a unique column (default: the primary key `id`); null when absent. Ids that are not
   * uuids (when the column is a uuid) resolve to null without reaching the database.
   */
  byId<TTable extends AnyTable>(
    table: TTable,
    column: PgColumn = (table as unknown as { id: PgColumn }).id,
  ): DataLoader<string, Row<TTable> | null> {
    const name = `byId:${getTableName(table)}.${column.name}`;
    return this.memo(name, () => {
      const key = keyOf(table, column);
      const checkUuid = column.getSQLType() === "uuid";
      // Built once per (table, column, scope) in this process; the ids are its one parameter.
      const query = preparedStatement(this.db, table, `${name}|${scopeKey(this.scope)}`, () =>
        this.db
          .select()
          .from(table as AnyTable)
          .where(and(inListPlaceholder(column, "ids"), this.inScope(table as AnyTable)))
          .prepare(name),
      );
      return new DataLoader<string, Row<TTable> | null>(async (ids) => {
        const valid = [...new Set(ids.filter((id) => !checkUuid || isUuid(id)))];
        const rows = valid.length ? await query.execute({ ids: pgArray(valid) }) : [];
        const map = new Map(
          rows.map((row) => [String((row as Record<string, unknown>)[key]).toLowerCase(), row]),
        );
        return ids.map((id) => (map.get(String(id).toLowerCase()) as Row<TTable>) ?? null);
      });
    });
  }

  /** All rows whose `column` equals the key (one-to-many without paging), in `id` order. */
  manyBy<TTable extends AnyTable>(
    table: TTable,
    column: PgColumn,
  ): DataLoader<string, Row<TTable>[]> {
    const name = `manyBy:${getTableName(table)}.${column.name}`;
    return this.memo(name, () => {
      const id = (table as unknown as { id: PgColumn }).id;
      const query = preparedStatement(this.db, table, `${name}|${scopeKey(this.scope)}`, () =>
        this.db
          .select({ ...getTableColumns(table as AnyTable), __key: sql<string>`${column}::text` })
          .from(table as AnyTable)
          .where(and(inListPlaceholder(column, "keys"), this.inScope(table as AnyTable)))
          .orderBy(id)
          .prepare(name),
      );
      return new DataLoader<string, Row<TTable>[]>(async (keys) => {
        const rows = await query.execute({ keys: pgArray([...new Set(keys)]) });
        const map = new Map<string, Row<TTable>[]>();
        for (const { __key, ...row } of rows) {
          const list = map.get(__key);
          if (list) list.push(row as Row<TTable>);
          else map.set(__key, [row as Row<TTable>]);
        }
        return keys.map((key) => map.get(key) ?? []);
      });
    });
  }

  /** The batched per-parent connection loader for `spec` under `parentColumn`. */
  connectionLoader<TTable extends AnyTable, TFilter>(
    spec: ListSpec<TTable, TFilter>,
    parentColumn: PgColumn,
  ): DataLoader<ConnectionKey<TFilter>, Connection<Row<TTable>>, string> {
    return this.memo(`connection:${spec.name}:${parentColumn.name}`, () =>
      createConnectionLoader(this.db, spec, parentColumn, this.warn, this.scope),
    );
  }

  /**
   * One parent's page of a nested connection, e.g.
   * `loaders.connection(contactList, contact.customerId, customer.id, args, info)`.
   */
  connection<TTable extends AnyTable, TFilter>(
    spec: ListSpec<TTable, TFilter>,
    parentColumn: PgColumn,
    parentId: string,
    args: ConnectionArgs<TFilter>,
    info?: GraphQLResolveInfo,
  ): Promise<Connection<Row<TTable>>> {
    const countTotal = info ? selectsField(info, "totalCount") : true;
    return this.connectionLoader(spec, parentColumn).load({
      parentId,
      args: normalizeArgs(args),
      countTotal,
    });
  }
}

/** Only the paging keys, with undefined → null, so equal arguments batch together. */
function normalizeArgs<TFilter>(args: ConnectionArgs<TFilter>): ConnectionArgs<TFilter> {
  return {
    first: args.first ?? null,
    after: args.after ?? null,
    last: args.last ?? null,
    before: args.before ?? null,
    filter: args.filter ?? null,
    orderBy: args.orderBy ?? null,
  };
}

/**
 * A single fetch (`Query.customer(id)`): BAD_USER_INPUT for a malformed id, NOT_FOUND (and null)
 * for an unknown one.
 */
export async function fetchOne<T>(
  loader: DataLoader<string, T | null>,
  entityType: string,
  id: string,
): Promise<T> {
  if (!isUuid(id)) {
    throw new BadUserInputError(`\`id\` must be a uuid; got ${JSON.stringify(id)}`, {
      argumentName: "id",
    });
  }
  const row = await loader.load(id);
  if (!row) throw new NotFoundGraphQLError(entityType, id);
  return row;
}

function keyOf(table: AnyTable, column: PgColumn): string {
  const entry = Object.entries(getTableColumns(table)).find(([, c]) => c === column);
  if (!entry) throw new Error(`column ${column.name} is not in table ${getTableName(table)}`);
  return entry[0];
}
