/**
 * The hub's own tables through the ops subgraph: every row of domain_event, audit_log,
 * source_link, sync_cursor, inbox_event and outbound_command can be paged through, filtered, and
 * a page costs the same number of statements whatever its size.
 */
import { randomUUID } from "node:crypto";
import {
  auditLog,
  domainEvent,
  inboxEvent,
  outboundCommand,
  sourceLink,
  syncCursor,
} from "@pshub/db/schema";
import { builders, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { encodeCursor, type SubgraphServer, undocumented } from "@pshub/subgraph-kit";
import { asc, desc } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpsSubgraph } from "./index.ts";
import type { OpsLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<OpsLoaders>;
const statements: string[] = [];

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables);

const correlationId = randomUUID();
const entityId = randomUUID();

beforeAll(async () => {
  t = await createTestDatabase({ onQuery: (q) => statements.push(q) });
  server = createOpsSubgraph(t.db);
  const b = builders(t.db);
  for (let n = 0; n < 7; n++) {
    // Sequential inserts: bigserial ids and timestamps in insertion order.
    await b.domainEvent({
      type: n % 2 ? "invoice.issued" : "invoice.status_changed",
      entityId: n < 3 ? entityId : randomUUID(),
      correlationId: n < 4 ? correlationId : null,
      payload: { n, note: 'quote " and 💶' },
    });
    await b.auditLog({
      operation: n % 3 ? "issueInvoice" : "runBilling",
      outcome: n === 5 ? "INVALID_TRANSITION" : "OK",
      entityType: "invoice",
      entityId: n < 2 ? entityId : randomUUID(),
      input: n === 0 ? null : { n },
    });
    await b.sourceLink({
      system: n < 2 ? "ERP" : "SALESFORCE",
      object: n < 2 ? "Customer" : "Account",
    });
    await b.syncCursor({
      connector: n < 3 ? "psa" : "salesforce",
      cursor: { since: `2026-11-0${n + 1}T00:00:00Z` },
      lagMs: n * 1000,
    });
    await b.inboxEvent({
      status: n < 2 ? "FAILED" : "APPLIED",
      object: n % 2 ? "Opportunity" : "Account",
      payload: { Id: `006-${n}`, Amount: "1500.00" },
    });
    await b.outboundCommand({
      target: n < 5 ? "ERP" : "SALESFORCE",
      state: n < 3 ? "PENDING" : "SUCCEEDED",
      result: n < 3 ? null : { number: `INV-${n}` },
    });
  }
});

afterAll(async () => {
  await t?.drop();
});

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string;
    endCursor: string;
  };
}

/** Pages forward through a connection (3 per page) and returns every id, checking totalCount. */
async function pageForward(field: string, extra = ""): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 100; guard++) {
    const result = await run(
      `query($after: String) { ${field}(first: 3, after: $after ${extra}) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } }`,
      { after },
    );
    expect(result.errors).toBeUndefined();
    const page = result.data![field] as Page;
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    ids.push(...page.edges.map((e) => e.node.id));
    expect(page.totalCount).toBeGreaterThanOrEqual(ids.length);
    if (!page.pageInfo.hasNextPage) {
      expect(ids).toHaveLength(page.totalCount);
      return ids;
    }
    after = page.pageInfo.endCursor;
  }
  throw new Error(`${field}: paging did not end`);
}

describe("every row of every hub table can be paged through", () => {
  it("domainEvents in outbox order (id ascending), ids as strings", async () => {
    const rows = await t.db
      .select({ id: domainEvent.id })
      .from(domainEvent)
      .orderBy(asc(domainEvent.id));
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(await pageForward("domainEvents")).toEqual(rows.map((r) => String(r.id)));
  });

  it("domainEvents backwards with last/before gives the same rows", async () => {
    const forward = await pageForward("domainEvents");
    const ids: string[] = [];
    let before: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const result = await run(
        `query($before: String) { domainEvents(last: 2, before: $before) {
          edges { node { id } } pageInfo { hasPreviousPage hasNextPage startCursor }
        } }`,
        { before },
      );
      expect(result.errors).toBeUndefined();
      const page = result.data!.domainEvents as Page;
      expect(page.pageInfo.hasNextPage).toBe(before !== null);
      ids.unshift(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(ids).toEqual(forward);
  });

  it("auditLog in id order", async () => {
    const rows = await t.db.select({ id: auditLog.id }).from(auditLog).orderBy(asc(auditLog.id));
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(await pageForward("auditLog")).toEqual(rows.map((r) => String(r.id)));
  });

  it("sourceLinks by creation time, then id", async () => {
    const rows = await t.db
      .select({ id: sourceLink.id })
      .from(sourceLink)
      .orderBy(asc(sourceLink.createdAt), asc(sourceLink.id));
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(await pageForward("sourceLinks")).toEqual(rows.map((r) => r.id));
  });

  it("syncCursors by connector, then id", async () => {
    const rows = await t.db
      .select({ id: syncCursor.id })
      .from(syncCursor)
      .orderBy(asc(syncCursor.connector), asc(syncCursor.id));
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(await pageForward("syncCursors")).toEqual(rows.map((r) => r.id));
  });

  it("inboxEvents newest first (orderBy RECEIVED_AT DESC), ties by id", async () => {
    const rows = await t.db
      .select({ id: inboxEvent.id })
      .from(inboxEvent)
      .orderBy(desc(inboxEvent.receivedAt), desc(inboxEvent.id));
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(
      await pageForward("inboxEvents", ", orderBy: { field: RECEIVED_AT, direction: DESC }"),
    ).toEqual(rows.map((r) => String(r.id)));
  });

  it("outboundCommands by creation time, then id", async () => {
    const rows = await t.db
      .select({ id: outboundCommand.id })
      .from(outboundCommand)
      .orderBy(asc(outboundCommand.createdAt), asc(outboundCommand.id));
    expect(rows.length).toBeGreaterThanOrEqual(7);
    expect(await pageForward("outboundCommands")).toEqual(rows.map((r) => r.id));
  });
});

describe("fields", () => {
  it("serialize jsonb as JSON text and keep the lineage event shape", async () => {
    const result = await run(`{
      domainEvents(first: 1, filter: { correlationId: "${correlationId}" }) {
        nodes { id type entityType entityId payload actor causationId occurredAt }
      }
      auditLog(first: 2) { nodes { id input outcome at } }
      syncCursors(first: 1, filter: { connector: "psa" }, orderBy: { field: UPDATED_AT }) { nodes { cursor lagMs } }
      inboxEvents(first: 1) { nodes { id payload status dedupeKey } }
      outboundCommands(last: 1) { nodes { payload result state target } }
    }`);
    expect(result.errors).toBeUndefined();
    const d = result.data!;
    const event = d.domainEvents.nodes[0];
    expect(event.id).toMatch(/^\d+$/);
    expect(JSON.parse(event.payload)).toEqual({ n: 0, note: 'quote " and 💶' });
    expect(event.entityId).toBe(entityId);
    expect(d.auditLog.nodes[0].id).toMatch(/^\d+$/);
    expect(d.auditLog.nodes[0].input).toBeNull();
    expect(JSON.parse(d.auditLog.nodes[1].input)).toEqual({ n: 1 });
    expect(JSON.parse(d.syncCursors.nodes[0].cursor)).toEqual({ since: "2026-11-01T00:00:00Z" });
    expect(d.syncCursors.nodes[0].lagMs).toBe(0);
    // Money stays a string inside the payload: never a float.
    expect(JSON.parse(d.inboxEvents.nodes[0].payload)).toEqual({ Id: "006-0", Amount: "1500.00" });
    expect(JSON.parse(d.outboundCommands.nodes[0].payload)).toEqual({});
    expect(JSON.parse(d.outboundCommands.nodes[0].result)).toEqual({ number: "INV-6" });
  });

  it("are all documented, and idempotency keys are not in the graph", () => {
    expect(undocumented(server.schema)).toEqual([]);
    const queryType = server.schema.getQueryType()!;
    expect(Object.keys(queryType.getFields()).filter((f) => /idempoten/i.test(f))).toEqual([]);
    expect(queryType.description).toMatch(/except idempotency keys/);
  });
});

describe("filters", () => {
  const ids = async (query: string) => {
    const result = await run(query);
    expect(result.errors).toBeUndefined();
    const connection = Object.values(result.data!)[0] as {
      totalCount: number;
      nodes: Record<string, unknown>[];
    };
    expect(connection.nodes).toHaveLength(connection.totalCount);
    return connection.nodes;
  };

  it("domainEvents by type, entity, correlation id, time and afterEventId", async () => {
    const all = await t.db.select().from(domainEvent).orderBy(asc(domainEvent.id));
    const issued = await ids(
      `{ domainEvents(filter: { type: "invoice.issued" }) { totalCount nodes { type } } }`,
    );
    expect(issued).toHaveLength(all.filter((e) => e.type === "invoice.issued").length);
    expect(issued.length).toBeGreaterThan(0);
    expect(
      await ids(
        `{ domainEvents(filter: { entityType: "invoice", entityId: "${entityId}" }) { totalCount nodes { id } } }`,
      ),
    ).toHaveLength(3);
    expect(
      await ids(
        `{ domainEvents(filter: { correlationId: "${correlationId}" }) { totalCount nodes { id } } }`,
      ),
    ).toHaveLength(4);
    const third = all[2]!;
    const after = await ids(
      `{ domainEvents(filter: { afterEventId: "${third.id}" }) { totalCount nodes { id } } }`,
    );
    expect(after.map((n) => n.id)).toEqual(all.slice(3).map((e) => String(e.id)));
    const later = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      await ids(
        `{ domainEvents(filter: { occurredFrom: "${later}" }) { totalCount nodes { id } } }`,
      ),
    ).toHaveLength(0);
    expect(
      await ids(`{ domainEvents(filter: { occurredTo: "${later}" }) { totalCount nodes { id } } }`),
    ).toHaveLength(all.length);
  });

  it("auditLog by operation, outcome, entity and time", async () => {
    expect(
      await ids(`{ auditLog(filter: { operation: "runBilling" }) { totalCount nodes { id } } }`),
    ).toHaveLength(3); // n = 0, 3, 6
    const failed = await ids(
      `{ auditLog(filter: { outcome: "INVALID_TRANSITION", actor: "test" }) { totalCount nodes { outcome } } }`,
    );
    expect(failed).toEqual([{ outcome: "INVALID_TRANSITION" }]);
    expect(
      await ids(
        `{ auditLog(filter: { entityType: "invoice", entityId: "${entityId}" }) { totalCount nodes { id } } }`,
      ),
    ).toHaveLength(2);
    expect(
      await ids(`{ auditLog(filter: { to: "2000-01-01T00:00:00Z" }) { totalCount nodes { id } } }`),
    ).toHaveLength(0);
  });

  it("sourceLinks by system and object", async () => {
    const erp = await ids(
      `{ sourceLinks(filter: { system: ERP, object: "Customer" }) { totalCount nodes { system object } } }`,
    );
    expect(erp).toEqual([
      { system: "ERP", object: "Customer" },
      { system: "ERP", object: "Customer" },
    ]);
  });

  it("syncCursors by connector", async () => {
    const psa = await ids(
      `{ syncCursors(filter: { connector: "psa" }) { totalCount nodes { connector } } }`,
    );
    expect(psa).toHaveLength(3);
    expect(psa.every((n) => n.connector === "psa")).toBe(true);
  });

  it("inboxEvents by status list and object", async () => {
    const failed = await ids(
      `{ inboxEvents(filter: { status: [FAILED], object: "Account" }) { totalCount nodes { status object } } }`,
    );
    expect(failed).toEqual([{ status: "FAILED", object: "Account" }]); // n = 0 only
    expect(
      await ids(
        `{ inboxEvents(filter: { status: [FAILED, APPLIED] }) { totalCount nodes { id } } }`,
      ),
    ).toHaveLength(7);
  });

  it("outboundCommands by target and state", async () => {
    const pendingErp = await ids(
      `{ outboundCommands(filter: { target: ERP, state: [PENDING] }) { totalCount nodes { target state } } }`,
    );
    expect(pendingErp).toHaveLength(3);
    expect(
      await ids(
        `{ outboundCommands(filter: { target: SALESFORCE, state: [SUCCEEDED], kind: "invoice.post" }) { totalCount nodes { id } } }`,
      ),
    ).toHaveLength(2);
  });
});

describe("bad input", () => {
  it.each([
    ["domainEvents", `after: "not a cursor!"`],
    ["auditLog", `before: "%%%"`],
    ["sourceLinks", `after: "e30"`], // base64url of "{}"
    ["syncCursors", `after: "not a cursor!"`],
    ["inboxEvents", `after: "not a cursor!"`],
    ["outboundCommands", `after: "not a cursor!"`],
    // Well-formed cursors whose id is not a bigint / uuid: the cast fails in SQL (22P02).
    ["domainEvents", `after: "${encodeCursor({ f: "ID", d: "ASC", v: "1", i: "x1" })}"`],
    [
      "outboundCommands",
      `after: "${encodeCursor({ f: "CREATED_AT", d: "ASC", v: "2026-11-25 00:00:00+00", i: "nope" })}"`,
    ],
    ["domainEvents", `filter: { afterEventId: "abc" }`],
    ["domainEvents", `filter: { entityId: "not-a-uuid" }`],
    ["auditLog", `filter: { correlationId: "x" }`],
    ["outboundCommands", `filter: { entityId: "x" }`],
    ["sourceLinks", `filter: { entityId: "x" }`],
  ])("%s(%s) → BAD_USER_INPUT", async (field, args) => {
    const result = await run(`{ ${field}(first: 2, ${args}) { totalCount nodes { id } } }`);
    expect(result.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("statement count", () => {
  it.each([
    "domainEvents",
    "auditLog",
    "sourceLinks",
    "syncCursors",
    "inboxEvents",
    "outboundCommands",
  ])("%s: one statement per page (+1 for totalCount), whatever the page size", async (field) => {
    const count = async (n: number, withTotal: boolean) => {
      statements.length = 0;
      const result = await run(
        `query($n: Int) { ${field}(first: $n) { ${withTotal ? "totalCount" : ""} nodes { id } } }`,
        { n },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data![field].nodes).toHaveLength(n);
      return statements.length;
    };
    expect(await count(1, false)).toBe(1);
    expect(await count(7, false)).toBe(1);
    expect(await count(1, true)).toBe(2);
    expect(await count(7, true)).toBe(2);
  });
});
