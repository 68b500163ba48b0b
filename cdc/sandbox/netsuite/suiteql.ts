/**
 * A small SuiteQL interpreter for the NetSuite sandbox: SELECT items [AS alias] FROM table [alias]
 * [[LEFT] JOIN table alias ON cond]* [WHERE cond] [ORDER BY expr [ASC|DESC], …] over in-memory
 * tables, with AND/OR/NOT, comparisons, IS [NOT] NULL, IN (…), and the functions pshub's queries
 * use (TO_CHAR, TO_TIMESTAMP, TO_DATE, BUILTIN.DF, UPPER, NVL). Unknown tables or fields are
 * NetSuite's "Invalid search query" errors. Values come back as NetSuite returns them: strings,
 * null fields omitted.
 */

export type Value = string | number | Date | boolean | null;
export type Row = Record<string, Value>;

export class SuiteQLError extends Error {}

type Token = { kind: "ident" | "string" | "number" | "op"; text: string };

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = "";
      i++;
      while (i < q.length) {
        if (q[i] === "'" && q[i + 1] === "'") {
          s += "'";
          i += 2;
        } else if (q[i] === "'") break;
        else s += q[i++];
      }
      if (q[i] !== "'") throw new SuiteQLError("unterminated string literal");
      i++;
      tokens.push({ kind: "string", text: s });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(q.slice(i))!;
      tokens.push({ kind: "number", text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(q.slice(i))!;
      tokens.push({ kind: "ident", text: m[0] });
      i += m[0].length;
    } else {
      const two = q.slice(i, i + 2);
      if ([">=", "<=", "<>", "!="].includes(two)) {
        tokens.push({ kind: "op", text: two });
        i += 2;
      } else if ("=<>(),*".includes(c)) {
        tokens.push({ kind: "op", text: c });
        i++;
      } else throw new SuiteQLError(`unexpected character ${c}`);
    }
  }
  return tokens;
}

type Expr =
  | { t: "col"; name: string }
  | { t: "lit"; v: Value }
  | { t: "fn"; name: string; args: Expr[] }
  | { t: "bin"; op: string; a: Expr; b: Expr }
  | { t: "not"; e: Expr }
  | { t: "isnull"; e: Expr; not: boolean }
  | { t: "in"; e: Expr; list: Expr[] };

interface Query {
  items: { e: Expr; alias: string }[];
  from: { table: string; alias: string };
  joins: { table: string; alias: string; on: Expr; left: boolean }[];
  where?: Expr;
  order: { e: Expr; desc: boolean }[];
}

const KEYWORDS = new Set([
  "SELECT",
  "FROM",
  "WHERE",
  "ORDER",
  "BY",
  "AND",
  "OR",
  "NOT",
  "AS",
  "JOIN",
  "LEFT",
  "OUTER",
  "INNER",
  "ON",
  "ASC",
  "DESC",
  "IS",
  "NULL",
  "IN",
]);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}
  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private isKw(kw: string): boolean {
    const t = this.peek();
    return t?.kind === "ident" && t.text.toUpperCase() === kw;
  }
  private eatKw(kw: string): boolean {
    if (this.isKw(kw)) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectKw(kw: string): void {
    if (!this.eatKw(kw))
      throw new SuiteQLError(`expected ${kw} near ${this.peek()?.text ?? "end of query"}`);
  }
  private eatOp(op: string): boolean {
    const t = this.peek();
    if (t?.kind === "op" && t.text === op) {
      this.i++;
      return true;
    }
    return false;
  }
  private ident(): string {
    const t = this.peek();
    if (t?.kind !== "ident" || KEYWORDS.has(t.text.toUpperCase()))
      throw new SuiteQLError(`expected a name near ${t?.text ?? "end of query"}`);
    this.i++;
    return t.text.toLowerCase();
  }

  parse(): Query {
    this.expectKw("SELECT");
    const items: Query["items"] = [];
    do {
      const e = this.expr();
      let alias: string;
      if (this.eatKw("AS")) alias = this.ident();
      else if (this.peek()?.kind === "ident" && !KEYWORDS.has(this.peek()!.text.toUpperCase()))
        alias = this.ident();
      else alias = e.t === "col" ? e.name.split(".").pop()! : `expr${items.length + 1}`;
      items.push({ e, alias });
    } while (this.eatOp(","));
    this.expectKw("FROM");
    const table = this.ident();
    const alias =
      this.peek()?.kind === "ident" && !KEYWORDS.has(this.peek()!.text.toUpperCase())
        ? this.ident()
        : table;
    const joins: Query["joins"] = [];
    for (;;) {
      const left = this.eatKw("LEFT");
      if (left) this.eatKw("OUTER");
      else this.eatKw("INNER");
      if (!this.eatKw("JOIN")) {
        if (left) throw new SuiteQLError("expected JOIN after LEFT");
        break;
      }
      const jt = this.ident();
      const ja =
        this.peek()?.kind === "ident" && !KEYWORDS.has(this.peek()!.text.toUpperCase())
          ? this.ident()
          : jt;
      this.expectKw("ON");
      joins.push({ table: jt, alias: ja, on: this.expr(), left });
    }
    const where = this.eatKw("WHERE") ? this.expr() : undefined;
    const order: Query["order"] = [];
    if (this.eatKw("ORDER")) {
      this.expectKw("BY");
      do {
        const e = this.expr();
        const desc = this.eatKw("DESC");
        if (!desc) this.eatKw("ASC");
        order.push({ e, desc });
      } while (this.eatOp(","));
    }
    if (this.peek()) throw new SuiteQLError(`unexpected ${this.peek()!.text}`);
    return { items, from: { table, alias }, joins, where, order };
  }

  private expr(): Expr {
    let a = this.and();
    while (this.eatKw("OR")) a = { t: "bin", op: "OR", a, b: this.and() };
    return a;
  }
  private and(): Expr {
    let a = this.not();
    while (this.eatKw("AND")) a = { t: "bin", op: "AND", a, b: this.not() };
    return a;
  }
  private not(): Expr {
    if (this.eatKw("NOT")) return { t: "not", e: this.not() };
    return this.cmp();
  }
  private cmp(): Expr {
    const a = this.primary();
    if (this.eatKw("IS")) {
      const not = this.eatKw("NOT");
      this.expectKw("NULL");
      return { t: "isnull", e: a, not };
    }
    if (this.eatKw("IN")) {
      if (!this.eatOp("(")) throw new SuiteQLError("expected ( after IN");
      const list: Expr[] = [];
      do list.push(this.primary());
      while (this.eatOp(","));
      if (!this.eatOp(")")) throw new SuiteQLError("expected )");
      return { t: "in", e: a, list };
    }
    const t = this.peek();
    if (t?.kind === "op" && ["=", "<>", "!=", "<", ">", "<=", ">="].includes(t.text)) {
      this.i++;
      return { t: "bin", op: t.text, a, b: this.primary() };
    }
    return a;
  }
  private primary(): Expr {
    const t = this.peek();
    if (!t) throw new SuiteQLError("unexpected end of query");
    if (this.eatOp("(")) {
      const e = this.expr();
      if (!this.eatOp(")")) throw new SuiteQLError("expected )");
      return e;
    }
    if (t.kind === "string") {
      this.i++;
      return { t: "lit", v: t.text };
    }
    if (t.kind === "number") {
      this.i++;
      return { t: "lit", v: t.text };
    }
    if (t.kind === "ident") {
      if (t.text.toUpperCase() === "NULL") {
        this.i++;
        return { t: "lit", v: null };
      }
      this.i++;
      if (this.eatOp("(")) {
        const args: Expr[] = [];
        if (!this.eatOp(")")) {
          do args.push(this.expr());
          while (this.eatOp(","));
          if (!this.eatOp(")")) throw new SuiteQLError("expected )");
        }
        return { t: "fn", name: t.text.toUpperCase(), args };
      }
      return { t: "col", name: t.text.toLowerCase() };
    }
    throw new SuiteQLError(`unexpected ${t.text}`);
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function formatDate(d: Date, fmt: string): string {
  return fmt
    .replace(/YYYY/g, String(d.getUTCFullYear()))
    .replace(/HH24/g, pad(d.getUTCHours()))
    .replace(/MI/g, pad(d.getUTCMinutes()))
    .replace(/SS/g, pad(d.getUTCSeconds()))
    .replace(/MM/g, pad(d.getUTCMonth() + 1))
    .replace(/DD/g, pad(d.getUTCDate()))
    .replace(/"T"/g, "T");
}

function parseDate(s: string, fmt: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s.trim());
  if (!m) throw new SuiteQLError(`date ${s} does not match format ${fmt}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)));
}

function compare(a: Value, b: Value): number {
  if (a === null || b === null) return Number.NaN;
  if (a instanceof Date || b instanceof Date) {
    const x = a instanceof Date ? a.getTime() : Date.parse(String(a));
    const y = b instanceof Date ? b.getTime() : Date.parse(String(b));
    return x - y;
  }
  const na = Number(a);
  const nb = Number(b);
  if (String(a).trim() !== "" && String(b).trim() !== "" && !Number.isNaN(na) && !Number.isNaN(nb))
    return na - nb;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

export interface TableSource {
  /** Rows of a table (lower-case table name), or undefined when the table does not exist. */
  rows(table: string): Row[] | undefined;
  /** Known fields of a table (to refuse unknown ones as NetSuite does). */
  fields(table: string): string[];
  /** Display value for BUILTIN.DF. */
  display?(table: string, field: string, value: Value): Value;
}

type Scope = Map<string, { table: string; row: Row | null }>;

function evaluate(e: Expr, scope: Scope, src: TableSource): Value {
  switch (e.t) {
    case "lit":
      return e.v;
    case "col": {
      const parts = e.name.split(".");
      let alias: string;
      let field: string;
      if (parts.length === 2) [alias, field] = parts as [string, string];
      else {
        field = parts[0]!;
        const owners = [...scope].filter(([, s]) => src.fields(s.table).includes(field));
        if (owners.length !== 1)
          throw new SuiteQLError(`Field '${field}' was not found or is ambiguous.`);
        alias = owners[0]![0];
      }
      const s = scope.get(alias);
      if (!s) throw new SuiteQLError(`Unknown identifier '${alias}'.`);
      if (!src.fields(s.table).includes(field))
        throw new SuiteQLError(`Field '${field}' for record '${s.table}' was not found.`);
      return s.row ? (s.row[field] ?? null) : null;
    }
    case "fn": {
      const args = e.args.map((a) => evaluate(a, scope, src));
      switch (e.name) {
        case "TO_CHAR": {
          const v = args[0];
          if (v === null || v === undefined) return null;
          return v instanceof Date ? formatDate(v, String(args[1] ?? "YYYY-MM-DD")) : String(v);
        }
        case "TO_TIMESTAMP":
        case "TO_DATE":
          return args[0] === null ? null : parseDate(String(args[0]), String(args[1] ?? ""));
        case "UPPER":
          return args[0] === null ? null : String(args[0]).toUpperCase();
        case "NVL":
          return args[0] ?? args[1] ?? null;
        case "BUILTIN.DF": {
          const arg = e.args[0];
          if (arg?.t === "col") {
            const [alias, field] = arg.name.includes(".")
              ? arg.name.split(".")
              : [[...scope.keys()][0]!, arg.name];
            const table = scope.get(alias!)?.table ?? "";
            return src.display?.(table, field!, args[0] ?? null) ?? args[0] ?? null;
          }
          return args[0] ?? null;
        }
        default:
          throw new SuiteQLError(`Unknown function ${e.name}.`);
      }
    }
    case "bin": {
      if (e.op === "AND")
        return truthy(evaluate(e.a, scope, src)) && truthy(evaluate(e.b, scope, src));
      if (e.op === "OR")
        return truthy(evaluate(e.a, scope, src)) || truthy(evaluate(e.b, scope, src));
      const c = compare(evaluate(e.a, scope, src), evaluate(e.b, scope, src));
      if (Number.isNaN(c)) return false;
      switch (e.op) {
        case "=":
          return c === 0;
        case "<>":
        case "!=":
          return c !== 0;
        case "<":
          return c < 0;
        case ">":
          return c > 0;
        case "<=":
          return c <= 0;
        default:
          return c >= 0;
      }
    }
    case "not":
      return !truthy(evaluate(e.e, scope, src));
    case "isnull": {
      const v = evaluate(e.e, scope, src);
      return e.not ? v !== null : v === null;
    }
    case "in": {
      const v = evaluate(e.e, scope, src);
      return e.list.some((x) => compare(v, evaluate(x, scope, src)) === 0);
    }
  }
}

function truthy(v: Value): boolean {
  return v === true;
}

function output(v: Value): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return `${v.getUTCMonth() + 1}/${v.getUTCDate()}/${v.getUTCFullYear()}`;
  if (typeof v === "boolean") return v ? "T" : "F";
  return String(v);
}

/** Runs a query; returns every result row (paging is the caller's). */
export function runSuiteQL(q: string, src: TableSource): Record<string, string>[] {
  const query = new Parser(tokenize(q)).parse();
  const base = src.rows(query.from.table);
  if (!base) throw new SuiteQLError(`Record '${query.from.table}' was not found.`);
  let scopes: Scope[] = base.map(
    (row) => new Map([[query.from.alias, { table: query.from.table, row }]]),
  );
  for (const j of query.joins) {
    const rows = src.rows(j.table);
    if (!rows) throw new SuiteQLError(`Record '${j.table}' was not found.`);
    const next: Scope[] = [];
    for (const s of scopes) {
      let matched = false;
      for (const row of rows) {
        const candidate = new Map(s).set(j.alias, { table: j.table, row });
        if (truthy(evaluate(j.on, candidate, src))) {
          next.push(candidate);
          matched = true;
        }
      }
      if (!matched && j.left) next.push(new Map(s).set(j.alias, { table: j.table, row: null }));
    }
    scopes = next;
  }
  if (query.where) scopes = scopes.filter((s) => truthy(evaluate(query.where!, s, src)));
  if (query.order.length) {
    const keyed = scopes.map((s) => ({ s, k: query.order.map((o) => evaluate(o.e, s, src)) }));
    keyed.sort((x, y) => {
      for (let i = 0; i < query.order.length; i++) {
        const a = x.k[i]!;
        const b = y.k[i]!;
        if (a === null && b === null) continue;
        if (a === null) return 1;
        if (b === null) return -1;
        const c = compare(a, b);
        if (c !== 0) return query.order[i]!.desc ? -c : c;
      }
      return 0;
    });
    scopes = keyed.map((x) => x.s);
  }
  return scopes.map((s) => {
    const out: Record<string, string> = {};
    for (const item of query.items) {
      const v = output(evaluate(item.e, s, src));
      if (v !== undefined) out[item.alias] = v;
    }
    return out;
  });
}
