import { getTableName } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { hasLegalEntityRule, INTERNAL_TABLES, inLegalEntityScope } from "./legal-entity-scope.ts";
import * as schema from "./schema.ts";

const tables = (Object.values(schema) as unknown[]).filter(
  (value): value is PgTable => value instanceof PgTable,
);

describe("legal-entity scope rules", () => {
  it("every table the graph can read has a rule (a new table must be given one)", () => {
    const missing = tables
      .filter((table) => !INTERNAL_TABLES.has(table) && !hasLegalEntityRule(table))
      .map(getTableName);
    expect(missing).toEqual([]);
    expect(tables.length).toBeGreaterThan(20);
  });

  it("no scope is no condition; an empty scope sees nothing; a table without a rule throws", () => {
    expect(inLegalEntityScope(schema.invoice, undefined)).toBeUndefined();
    expect(inLegalEntityScope(schema.invoice, [])).toBeDefined();
    expect(() => inLegalEntityScope(schema.apiKey, ["UK"])).toThrow(/no legal-entity owner path/);
  });
});
