/**
 * Text that PostgreSQL cannot store. A `text` or `jsonb` value may not contain NUL (U+0000), and
 * UTF-8 has no encoding for a lone UTF-16 surrogate (JSON can carry "\ud800"; jsonb refuses it,
 * and a text parameter would silently become U+FFFD). Such strings are refused at the edge as
 * BAD_USER_INPUT ({@link findMalformedText}), and written to the audit trail in a visible,
 * storable spelling ({@link storableText}).
 */

export interface MalformedText {
  /** Where in the value: "reason", "input.reference", "ids.0" ("" for the value itself). */
  path: string;
  problem: "NUL" | "LONE_SURROGATE";
  message: string;
}

const NUL = "\u0000";
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function problemOf(text: string): MalformedText["problem"] | undefined {
  if (text.includes(NUL)) return "NUL";
  if (LONE_SURROGATE.test(text)) return "LONE_SURROGATE";
  return undefined;
}

/**
 * The first string in `value` (walked through arrays and plain objects, keys included) that
 * PostgreSQL cannot store, or undefined when there is none.
 */
export function findMalformedText(value: unknown, path = ""): MalformedText | undefined {
  if (typeof value === "string") {
    const problem = problemOf(value);
    if (!problem) return undefined;
    const where = path || "value";
    return {
      path,
      problem,
      message:
        problem === "NUL"
          ? `${where} must not contain NUL (\\u0000) characters`
          : `${where} is not valid Unicode text (it contains a lone UTF-16 surrogate)`,
    };
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findMalformedText(value[i], path ? `${path}.${i}` : String(i));
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === "object" && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) {
      const keyPath = path ? `${path}.${key}` : key;
      if (problemOf(key)) return findMalformedText(key, keyPath);
      const found = findMalformedText(item, keyPath);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * `value` with every string made storable: NUL and lone surrogates are written as the visible
 * escapes `\u0000` / `\ud800`, so the audit trail records what was sent without failing on it.
 */
export function storableText<T>(value: T): T {
  if (typeof value === "string") {
    if (!problemOf(value)) return value;
    let out = "";
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      const high = code >= 0xd800 && code <= 0xdbff;
      const low = code >= 0xdc00 && code <= 0xdfff;
      const next = value.charCodeAt(i + 1);
      if (high && next >= 0xdc00 && next <= 0xdfff) {
        out += value[i]! + value[i + 1]!;
        i++;
      } else if (code === 0 || high || low) {
        out += `\\u${code.toString(16).padStart(4, "0")}`;
      } else {
        out += value[i]!;
      }
    }
    return out as T;
  }
  if (Array.isArray(value)) return value.map((item) => storableText(item)) as T;
  if (value && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [storableText(key), storableText(item)]),
    ) as T;
  }
  return value;
}
