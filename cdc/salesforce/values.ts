/**
 * Salesforce values → canonical values. REST JSON gives numbers and booleans; Bulk API 2.0 CSV
 * gives strings ("" for null); CDC gives numbers and compound objects. Money and quantities
 * become decimal strings (never floats on the way in: a JSON number is printed in its shortest
 * exact form and checked against the column's scale).
 */

export class ValueError extends Error {}

function isBlank(v: unknown): boolean {
  return v === null || v === undefined || v === "";
}

export function text(v: unknown): string | null {
  if (isBlank(v)) return null;
  if (typeof v === "object") throw new ValueError("expected text");
  return String(v);
}

/** A decimal string with at most `scale` decimals: 1250 → "1250", 99.5 → "99.5". */
export function decimal(v: unknown, scale = 2): string | null {
  if (isBlank(v)) return null;
  const s = typeof v === "number" ? numberToPlain(v) : String(v).trim();
  if (!/^-?\d+(\.\d+)?$/.test(s)) throw new ValueError(`"${String(v)}" is not a number`);
  const [, frac = ""] = s.split(".");
  if (frac.replace(/0+$/, "").length > scale) {
    throw new ValueError(`"${s}" has more than ${scale} decimals`);
  }
  return s;
}

function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) throw new ValueError(`${n} is not a number`);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(20).replace(/\.?0+$/, "");
}

export function integer(v: unknown): number | null {
  if (isBlank(v)) return null;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ValueError(`"${String(v)}" is not a whole number`);
  return n;
}

export function bool(v: unknown): boolean | null {
  if (isBlank(v)) return null;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "TRUE" || v === "1") return true;
  if (v === "false" || v === "FALSE" || v === "0") return false;
  throw new ValueError(`"${String(v)}" is not a boolean`);
}

/** A date "YYYY-MM-DD" (Salesforce date fields; CDC sends them the same way). */
export function date(v: unknown): string | null {
  if (isBlank(v)) return null;
  const s = String(v);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new ValueError(`"${s}" is not a date`);
  return s;
}

/** Salesforce dateTime ("2026-11-20T10:00:00.000+0000", ISO, or CDC epoch ms) → ISO. */
export function dateTime(v: unknown): string | null {
  if (isBlank(v)) return null;
  if (typeof v === "number") return new Date(v).toISOString();
  // Every record's SystemModstamp passes here: the UTC form Salesforce sends is taken without the
  // offset rewrite, and kept as is when it already is the ISO text it stands for.
  if (typeof v === "string" && v.length === 28 && v.endsWith("+0000")) {
    const iso = `${v.slice(0, 23)}Z`;
    const ms = Date.parse(iso);
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === iso) return iso;
  }
  const ms = Date.parse(String(v).replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  if (Number.isNaN(ms)) throw new ValueError(`"${String(v)}" is not a dateTime`);
  return new Date(ms).toISOString();
}

/** A SOQL dateTime literal at second precision (Salesforce stores seconds). */
export function soqlDateTime(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function soqlString(v: string): string {
  return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
