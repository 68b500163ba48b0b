/**
 * A SOQL subset, enough for what a replication client sends: SELECT fields | COUNT() FROM object
 * [WHERE …] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n] [OFFSET n]. Conditions:
 * AND / OR / NOT, parentheses, = != <> < <= > >=, IN (…), NOT IN (…), LIKE; literals: 'strings',
 * numbers, true/false, null, dateTime (2026-11-20T10:00:00Z, with .sss and ±hh:mm) and date.
 * Errors are SalesforceErrors with the codes the real API uses (MALFORMED_QUERY, INVALID_FIELD,
 * INVALID_TYPE).
 */
import { type FieldDef, findObject, type ObjectDef } from "./schema.ts";

export class SalesforceError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

type Value = string | number | boolean | null;
export type Condition =
  | { kind: "and" | "or"; items: Condition[] }
  | { kind: "not"; item: Condition }
  | { kind: "cmp"; field: FieldDef; op: string; value: Value }
  | { kind: "in"; field: FieldDef; negate: boolean; values: Value[] }
  | { kind: "like"; field: FieldDef; pattern: RegExp };

export interface ParsedQuery {
  object: ObjectDef;
  count: boolean;
  fields: FieldDef[];
  where?: Condition;
  orderBy: { field: FieldDef; desc: boolean; nullsLast: boolean }[];
  limit?: number;
  offset?: number;
}

type Token = { t: "word" | "str" | "num" | "sym"; v: string; pos: number };

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const c = soql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let j = i + 1;
      let s = "";
      while (j < soql.length && soql[j] !== "'") {
        if (soql[j] === "\\" && j + 1 < soql.length) {
          const e = soql[j + 1]!;
          s += e === "n" ? "\n" : e === "t" ? "\t" : e;
          j += 2;
        } else {
          s += soql[j];
          j++;
        }
      }
      if (j >= soql.length) throw malformed(`unterminated string at ${i}`);
      tokens.push({ t: "str", v: s, pos: i });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(soql[i + 1] ?? ""))) {
      const m =
        /^-?\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2}))?|^-?\d+(\.\d+)?/.exec(
          soql.slice(i),
        )!;
      tokens.push({ t: "num", v: m[0], pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(soql.slice(i))!;
      tokens.push({ t: "word", v: m[0], pos: i });
      i += m[0].length;
    } else {
      const two = soql.slice(i, i + 2);
      if (["!=", "<>", "<=", ">="].includes(two)) {
        tokens.push({ t: "sym", v: two, pos: i });
        i += 2;
      } else if ("=<>(),".includes(c)) {
        tokens.push({ t: "sym", v: c, pos: i });
        i++;
      } else {
        throw malformed(`unexpected character '${c}' at ${i}`);
      }
    }
  }
  return tokens;
}

function malformed(message: string) {
  return new SalesforceError(400, "MALFORMED_QUERY", message);
}

export function parseSoql(soql: string): ParsedQuery {
  const tokens = tokenize(soql);
  let p = 0;
  const peek = () => tokens[p];
  const isWord = (w: string, tok = peek()) => tok?.t === "word" && tok.v.toUpperCase() === w;
  const expectWord = (w: string) => {
    if (!isWord(w)) throw malformed(`expecting '${w}', found '${peek()?.v ?? "end of query"}'`);
    p++;
  };
  const expectSym = (s: string) => {
    const tok = peek();
    if (tok?.t !== "sym" || tok.v !== s)
      throw malformed(`expecting '${s}', found '${tok?.v ?? "end of query"}'`);
    p++;
  };

  expectWord("SELECT");
  const selected: string[] = [];
  let count = false;
  if (isWord("COUNT") && tokens[p + 1]?.v === "(") {
    p += 2;
    expectSym(")");
    count = true;
  } else {
    for (;;) {
      const tok = peek();
      if (tok?.t !== "word") throw malformed(`unexpected token '${tok?.v ?? "end of query"}'`);
      selected.push(tok.v);
      p++;
      if (peek()?.v === ",") p++;
      else break;
    }
  }
  expectWord("FROM");
  const objTok = peek();
  if (objTok?.t !== "word") throw malformed("expecting an object name after FROM");
  p++;
  const object = findObject(objTok.v);
  if (!object) {
    throw new SalesforceError(
      400,
      "INVALID_TYPE",
      `sObject type '${objTok.v}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.`,
    );
  }
  const field = (name: string): FieldDef => {
    const f = object.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f) {
      throw new SalesforceError(
        400,
        "INVALID_FIELD",
        `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`,
      );
    }
    return f;
  };
  const fields = selected.map(field);

  const value = (f: FieldDef): Value => {
    const tok = peek();
    if (!tok) throw malformed("expecting a value");
    p++;
    if (tok.t === "str") return tok.v;
    if (tok.t === "num") {
      if (/^\d{4}-\d{2}-\d{2}T/.test(tok.v)) {
        if (f.type !== "datetime")
          throw malformed(`value of type dateTime for field ${f.name} of type ${f.type}`);
        return new Date(tok.v.replace(/([+-]\d{2})(\d{2})$/, "$1:$2")).getTime();
      }
      if (/^\d{4}-\d{2}-\d{2}$/.test(tok.v)) return tok.v;
      return Number(tok.v);
    }
    if (isWord("TRUE", tok)) return true;
    if (isWord("FALSE", tok)) return false;
    if (isWord("NULL", tok)) return null;
    throw malformed(`unexpected token '${tok.v}'`);
  };

  const comparison = (): Condition => {
    const tok = peek();
    if (tok?.v === "(") {
      p++;
      const c = orExpr();
      expectSym(")");
      return c;
    }
    if (isWord("NOT")) {
      p++;
      return { kind: "not", item: comparison() };
    }
    if (tok?.t !== "word") throw malformed(`unexpected token '${tok?.v ?? "end of query"}'`);
    p++;
    const f = field(tok.v);
    const negate = isWord("NOT");
    if (negate) p++;
    if (isWord("IN")) {
      p++;
      expectSym("(");
      const values: Value[] = [];
      for (;;) {
        values.push(value(f));
        if (peek()?.v === ",") p++;
        else break;
      }
      expectSym(")");
      return { kind: "in", field: f, negate, values };
    }
    if (negate) throw malformed("expecting IN after NOT");
    if (isWord("LIKE")) {
      p++;
      const pat = String(value(f));
      const re = pat
        .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        .replace(/%/g, ".*")
        .replace(/_/g, ".");
      return { kind: "like", field: f, pattern: new RegExp(`^${re}$`, "is") };
    }
    const op = peek();
    if (op?.t !== "sym" || !["=", "!=", "<>", "<", "<=", ">", ">="].includes(op.v))
      throw malformed(`expecting an operator after ${f.name}`);
    p++;
    return { kind: "cmp", field: f, op: op.v === "<>" ? "!=" : op.v, value: value(f) };
  };
  const andExpr = (): Condition => {
    const items = [comparison()];
    while (isWord("AND")) {
      p++;
      items.push(comparison());
    }
    return items.length === 1 ? items[0]! : { kind: "and", items };
  };
  const orExpr = (): Condition => {
    const items = [andExpr()];
    while (isWord("OR")) {
      p++;
      items.push(andExpr());
    }
    return items.length === 1 ? items[0]! : { kind: "or", items };
  };

  const query: ParsedQuery = { object, count, fields, orderBy: [] };
  if (isWord("WHERE")) {
    p++;
    query.where = orExpr();
  }
  if (isWord("ORDER")) {
    p++;
    expectWord("BY");
    for (;;) {
      const tok = peek();
      if (tok?.t !== "word") throw malformed("expecting a field in ORDER BY");
      p++;
      let desc = false;
      if (isWord("ASC")) p++;
      else if (isWord("DESC")) {
        desc = true;
        p++;
      }
      let nullsLast = desc;
      if (isWord("NULLS")) {
        p++;
        nullsLast = isWord("LAST");
        p++;
      }
      query.orderBy.push({ field: field(tok.v), desc, nullsLast });
      if (peek()?.v === ",") p++;
      else break;
    }
  }
  if (isWord("LIMIT")) {
    p++;
    const n = peek();
    if (n?.t !== "num") throw malformed("expecting a number after LIMIT");
    p++;
    query.limit = Number(n.v);
  }
  if (isWord("OFFSET")) {
    p++;
    const n = peek();
    if (n?.t !== "num") throw malformed("expecting a number after OFFSET");
    p++;
    query.offset = Number(n.v);
  }
  if (p < tokens.length) throw malformed(`unexpected token: '${tokens[p]!.v}'`);
  return query;
}

/** A stored value made comparable: dateTime → epoch ms, strings as they are. */
function comparable(f: FieldDef, v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (f.type === "datetime") return typeof v === "number" ? v : Date.parse(String(v));
  return v as Value;
}

function compare(a: Value, b: Value, caseInsensitive: boolean): number {
  if (typeof a === "string" && typeof b === "string" && caseInsensitive) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  return a! < b! ? -1 : a! > b! ? 1 : 0;
}

export function matches(c: Condition, record: Record<string, unknown>): boolean {
  switch (c.kind) {
    case "and":
      return c.items.every((i) => matches(i, record));
    case "or":
      return c.items.some((i) => matches(i, record));
    case "not":
      return !matches(c.item, record);
    case "in": {
      const v = comparable(c.field, record[c.field.name]);
      const found = c.values.some(
        (x) => v !== null && compare(v, comparable(c.field, x), true) === 0,
      );
      return c.negate ? !found : found;
    }
    case "like": {
      const v = record[c.field.name];
      return typeof v === "string" && c.pattern.test(v);
    }
    case "cmp": {
      const v = comparable(c.field, record[c.field.name]);
      const w = comparable(c.field, c.value);
      if (c.op === "=")
        return w === null
          ? v === null
          : v !== null &&
              compare(v, w, c.field.type !== "id" && c.field.type !== "reference") === 0;
      if (c.op === "!=") return w === null ? v !== null : v === null || compare(v, w, true) !== 0;
      if (v === null || w === null) return false;
      const r = compare(v, w, c.field.type !== "id" && c.field.type !== "reference");
      return c.op === "<" ? r < 0 : c.op === "<=" ? r <= 0 : c.op === ">" ? r > 0 : r >= 0;
    }
  }
}

export function sortRecords(q: ParsedQuery, records: Record<string, unknown>[]): void {
  if (q.orderBy.length === 0) return;
  records.sort((x, y) => {
    for (const o of q.orderBy) {
      const a = comparable(o.field, x[o.field.name]);
      const b = comparable(o.field, y[o.field.name]);
      if (a === null && b === null) continue;
      if (a === null) return o.nullsLast ? 1 : -1;
      if (b === null) return o.nullsLast ? -1 : 1;
      const r = compare(a, b, o.field.type !== "id" && o.field.type !== "reference");
      if (r !== 0) return o.desc ? -r : r;
    }
    return 0;
  });
}
