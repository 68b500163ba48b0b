import { describe, expect, it } from "vitest";
import { findMalformedText, storableText } from "./text.ts";

describe("text Postgres cannot store", () => {
  it("finds NUL and lone surrogates anywhere in a value, with their path", () => {
    expect(findMalformedText({ a: "fine", b: ["ok", { c: "x\u0000" }] })).toMatchObject({
      path: "b.1.c",
      problem: "NUL",
      message: "b.1.c must not contain NUL (\\u0000) characters",
    });
    expect(findMalformedText("\ud800")).toMatchObject({ path: "", problem: "LONE_SURROGATE" });
    expect(findMalformedText({ "k\udfff": 1 })).toMatchObject({ problem: "LONE_SURROGATE" });
    expect(findMalformedText("a\udc00b", "reason")!.message).toBe(
      "reason is not valid Unicode text (it contains a lone UTF-16 surrogate)",
    );
    // A surrogate pair (an emoji) is well-formed text.
    expect(findMalformedText({ a: "😀 ünïcödé", b: [1, true, null, new Date()] })).toBeUndefined();
  });

  it("spells what cannot be stored as visible escapes and keeps the rest", () => {
    expect(storableText({ r: "a\u0000b\ud800c😀\udc00", n: 1, list: ["\u0000"] })).toEqual({
      r: "a\\u0000b\\ud800c😀\\udc00",
      n: 1,
      list: ["\\u0000"],
    });
    expect(storableText("plain")).toBe("plain");
  });
});
