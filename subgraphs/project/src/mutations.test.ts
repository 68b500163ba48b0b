/** Delivery mutations through the project subgraph (db/src/lifecycle underneath). */

import { execute, operations as op } from "@pshub/db";
import {
  addTime,
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProjectSubgraph } from "./index.ts";

let t: TestDatabase;
let server: ReturnType<typeof createProjectSubgraph>;
let projectId: string;
let entries: string[];

beforeAll(async () => {
  t = await createTestDatabase();
  server = createProjectSubgraph(t.db);
  const basics = await seedBasics(t.db);
  const conv = await execute(
    t.db,
    op.convertOpportunity,
    { actor: "setup" },
    {
      opportunityId: await wonOpportunity(t.db, basics),
    },
  );
  projectId = conv.project.id;
  entries = await addTime(
    t.db,
    projectId,
    await newResource(t.db),
    ["2026-01-05", "2026-01-06", "2026-01-07"].map((workDate) => ({
      workDate,
      hours: "4.00",
      billRate: "100.00",
    })),
  );
});
afterAll(async () => {
  await t?.drop();
});

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables, { "x-pshub-principal": "pm@firm.test" });

describe("project mutations", () => {
  it("activateProject once; approve single and bulk; refused transitions are typed", async () => {
    const activate = `mutation($id: ID!) { activateProject(projectId: $id) { id status } }`;
    expect((await run(activate, { id: projectId })).data!.activateProject.status).toBe("ACTIVE");
    expect((await run(activate, { id: projectId })).errors![0]!.extensions).toMatchObject({
      code: "INVALID_TRANSITION",
      from: "ACTIVE",
      to: "ACTIVE",
    });

    const one = await run(
      `mutation($id: ID!) { approveTimeEntry(id: $id) { id status approvedBy } }`,
      {
        id: entries[0],
      },
    );
    expect(one.data!.approveTimeEntry).toMatchObject({
      status: "APPROVED",
      approvedBy: "pm@firm.test",
    });
    const bulk = `mutation($ids: [ID!]!) { approveTimeEntries(ids: $ids) { id status } }`;
    const refused = await run(bulk, { ids: entries });
    expect(refused.errors![0]!.extensions).toMatchObject({
      code: "INVALID_TRANSITION",
      id: entries[0],
    });
    const rest = await run(bulk, { ids: entries.slice(1) });
    expect(rest.data!.approveTimeEntries.map((e: { id: string }) => e.id)).toEqual(
      entries.slice(1),
    );
    const reject = await run(
      `mutation($id: ID!) { rejectTimeEntry(id: $id, reason: "late") { status } }`,
      {
        id: entries[0],
      },
    );
    expect(reject.errors![0]!.extensions).toMatchObject({ from: "APPROVED", to: "REJECTED" });
  });
});
