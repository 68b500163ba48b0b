/**
 * The document limits on their own: what each one measures, that fragments are walked once,
 * and that a refusal comes from the cheap checks, never from validation.
 */
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import {
  checkDocument,
  checkSource,
  countFields,
  createDocumentGuard,
  type DocumentLimits,
  measureWithArmor,
} from "./limits.ts";

const LIMITS: DocumentLimits = {
  maxTokens: 10_000,
  maxDepth: 24,
  maxAliases: 30,
  maxDirectives: 50,
  maxFields: 500,
  maxFragments: 100,
};

/** n fragments, each spreading the next twice: 2^(n-1) × 2 fields once expanded. */
const doubling = (n: number) =>
  `{ customers { nodes { ...F0 } } } ${Array.from({ length: n }, (_, i) =>
    i === n - 1
      ? `fragment F${i} on Customer { id name }`
      : `fragment F${i} on Customer { ...F${i + 1} ...F${i + 1} }`,
  ).join(" ")}`;

/** The fastest of five runs, in ms: tests share two cores, one slow run is not the code's. */
const fastest = (run: () => unknown) =>
  Math.min(
    ...Array.from({ length: 5 }, () => {
      const started = performance.now();
      run();
      return performance.now() - started;
    }),
  );

const codeOf = (source: string, limits: Partial<DocumentLimits> = {}) =>
  checkSource(source, { ...LIMITS, ...limits })?.extensions.code;

describe("document limits", () => {
  it("counts fields through fragments once each: exact when unbounded, stopping early past a limit", () => {
    const document = parse(doubling(24));
    // 2 fields above the fragments, 2^23 × 2 below them.
    expect(countFields(document)).toBe(2 + 2 ** 24);
    expect(countFields(document, 500)).toBeGreaterThan(500);
    expect(countFields(document, 500)).toBeLessThan(1100);
    expect(fastest(() => countFields(document))).toBeLessThan(100);
  });

  it("refuses the 24-fragment doubling document in milliseconds, by its field count", () => {
    const error = checkSource(doubling(24), LIMITS);
    expect(fastest(() => checkSource(doubling(24), LIMITS))).toBeLessThan(100);
    expect(error?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", limit: 500 });
  });

  it("measures depth through fragments (a spread adds none), aliases and directives with graphql-armor", () => {
    const measured = measureWithArmor(
      parse(`
        query @a { x: customers { nodes { ...C } } y: customers { id @skip(if: true) } }
        fragment C on Customer { parent { parent @include(if: true) { name } } }
      `),
    );
    // customers 1, nodes 2, parent 3, parent 4, name 5.
    expect(measured).toEqual({ depth: 5, aliases: 2, directives: 3 });
  });

  it("names each limit in its code, with the limit and the actual count", () => {
    expect(codeOf(`{ a ${"b ".repeat(200)}}`, { maxTokens: 100 })).toBe("TOO_MANY_TOKENS");
    expect(codeOf("{ a { b { c { d } } } }", { maxDepth: 3 })).toBe("QUERY_TOO_DEEP");
    expect(codeOf("{ a: x b: x c: x }", { maxAliases: 2 })).toBe("TOO_MANY_ALIASES");
    expect(codeOf(`{ x ${"@skip(if: false) ".repeat(51)}}`)).toBe("TOO_MANY_DIRECTIVES");
    expect(codeOf(`{ ${"x ".repeat(501)}}`)).toBe("QUERY_TOO_COMPLEX");
    const fragments = Array.from({ length: 101 }, (_, i) => `fragment F${i} on Q { x }`);
    expect(codeOf(`{ x } ${fragments.join(" ")}`)).toBe("TOO_MANY_FRAGMENTS");
    const error = checkDocument(parse(`{ x ${"@skip(if: false) ".repeat(60)}}`), LIMITS);
    expect(error?.extensions).toMatchObject({ limit: 50, actual: 60 });
    // Unused fragments count too: validation would still compare their fields.
    expect(codeOf(`{ x } fragment Big on Q { ${"id ".repeat(501)}}`)).toBe("QUERY_TOO_COMPLEX");
  });

  it("refuses 10,000 repeated fields and 5,000 one-field fragments without validating them", () => {
    const ids = `{ customers(first: 1) { nodes { ${"id ".repeat(10_000)}} } }`;
    const fragments = `{ customers { nodes { ${Array.from({ length: 5000 }, (_, i) => `...F${i}`).join(" ")} } } } ${Array.from({ length: 5000 }, (_, i) => `fragment F${i} on Customer { id }`).join(" ")}`;
    for (const [source, code] of [
      [ids, "TOO_MANY_TOKENS"],
      [fragments, "TOO_MANY_TOKENS"],
    ] as const) {
      expect(codeOf(source)).toBe(code);
      // Validating either would take seconds.
      expect(fastest(() => codeOf(source))).toBeLessThan(100);
    }
    // With the token limit out of the way, the field and fragment limits still refuse them.
    expect(codeOf(ids, { maxTokens: 1_000_000 })).toBe("QUERY_TOO_COMPLEX");
    expect(codeOf(fragments, { maxTokens: 1_000_000 })).toBe("TOO_MANY_FRAGMENTS");
  });

  it("leaves syntax errors and fragment cycles to the server's own parser and validation", () => {
    expect(checkSource("{ x ", LIMITS)).toBeUndefined();
    expect(
      checkSource("{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }", LIMITS),
    ).toBeUndefined();
  });

  it("the guard remembers passed sources by their bytes, and never a refused one", () => {
    const guard = createDocumentGuard(LIMITS, { cacheBytes: 10_000 });
    expect(guard.check("{ a }")).toBeUndefined();
    expect(guard.check("{ a }")).toBeUndefined();
    const tooMany = `{ ${"x ".repeat(501)}}`;
    expect(guard.check(tooMany)?.extensions.code).toBe("QUERY_TOO_COMPLEX");
    expect(guard.check(tooMany)?.extensions.code).toBe("QUERY_TOO_COMPLEX");
  });
});
