import { afterAll, beforeAll, expect, it } from "vitest";
import { seedDemo } from "../seed/index.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { EventFactsLoader } from "./facts.ts";
import type { DomainEventRecord } from "./reader.ts";

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase({ max: 4 });
  await seedDemo(t.sql);
}, 120_000);

afterAll(async () => {
  await t?.drop();
});

const event = (id: number, entityType: string, entityId: string, payload = {}) =>
  ({
    id,
    type: `${entityType}.status_changed`,
    entityType,
    entityId,
    payload,
    correlationId: null,
    causationId: null,
    actor: "facts-test",
    occurredAt: new Date().toISOString(),
  }) satisfies DomainEventRecord;

it("finds the project of a time entry, expense or milestone whose event has no projectId (a generic sync transition)", async () => {
  const facts = new EventFactsLoader(t.sql);
  let n = 0;
  for (const table of ["time_entry", "expense", "milestone"] as const) {
    const [row] = await t.sql<{ id: string; project_id: string }[]>`
      select id::text as id, project_id::text as project_id from ${t.sql(table)} order by id limit 1`;
    expect(row, table).toBeDefined();
    const found = await facts.load(event(++n, table, row!.id, { from: "A", to: "B" }));
    expect(found, table).toMatchObject({ projectId: row!.project_id, status: "B" });
    // The payload's projectId wins (no lookup).
    const given = await facts.load(event(++n, table, row!.id, { projectId: "p-given" }));
    expect(given.projectId).toBe("p-given");
  }
});
