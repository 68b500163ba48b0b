/**
 * Query.entitySearch over the seeded demo firm: each kind of text (an invoice number, an ERP
 * document number, a Salesforce id, an opportunity's Salesforce id, a canonical id, part of a
 * name) finds what hand-written SQL says it should; hits carry their source links; a caller
 * scoped to one legal entity finds nothing of another; the lineage's entities carry their ids in
 * the source systems; bad text is BAD_USER_INPUT; the roles hold.
 */
import { seed } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { SubgraphServer } from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpsSubgraph } from "./index.ts";
import type { OpsLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<OpsLoaders>;

const SEARCH = `query($text: String!, $first: Int) { entitySearch(text: $text, first: $first) {
  entityType id label customerName legalEntity status matchedOn
  externalIds { system object externalId }
} }`;

// biome-ignore lint/suspicious/noExplicitAny: result rows are walked ad hoc
type Row = Record<string, any>;

async function search(text: string, headers: Record<string, string> = {}, first?: number) {
  const result = await server.execute(SEARCH, { text, first }, headers);
  return result as { data?: { entitySearch: Row[] } | null; errors?: Row[] };
}

beforeAll(async () => {
  t = await createTestDatabase();
  await seed.seedDemo(t.sql);
  server = createOpsSubgraph(t.db);
}, 120_000);

afterAll(async () => {
  await t?.drop();
});

describe("entitySearch", () => {
  it("finds an invoice by its number and by its ERP document number, with its source links", async () => {
    const [inv] = await t.sql<{ id: string; number: string; erp_number: string | null }[]>`
      select i.id::text as id, i.number, i.erp_number from invoice i
      where i.number is not null and i.erp_number is not null
        and exists (select 1 from source_link s where s.entity_id = i.id)
      order by i.number limit 1`;
    expect(inv).toBeDefined();
    const links = await t.sql<{ system: string; object: string; external_id: string }[]>`
      select system::text as system, object, external_id from source_link
      where entity_id = ${inv!.id} order by id`;
    const byNumber = await search(inv!.number);
    expect(byNumber.errors).toBeUndefined();
    const hit = byNumber.data!.entitySearch[0]!;
    expect(hit).toMatchObject({
      entityType: "INVOICE",
      id: inv!.id,
      label: inv!.number,
      matchedOn: "NUMBER",
    });
    expect(hit.externalIds).toEqual(
      links.map((l) => ({ system: l.system, object: l.object, externalId: l.external_id })),
    );
    const byErp = await search(inv!.erp_number!);
    expect(byErp.data!.entitySearch.map((h) => h.id)).toContain(inv!.id);
  });

  it("finds a record by any system's id, exactly, and a contract by its opportunity's Salesforce id", async () => {
    const links = await t.sql<{ entity_type: string; entity_id: string; external_id: string }[]>`
      select distinct on (entity_type) entity_type, entity_id::text as entity_id, external_id
      from source_link where entity_type in ('customer', 'contract', 'project', 'invoice')
      order by entity_type, id`;
    expect(links.length).toBeGreaterThanOrEqual(3);
    for (const link of links) {
      const result = await search(link.external_id);
      const hit = result.data!.entitySearch[0]!;
      expect(hit, link.external_id).toMatchObject({
        entityType: link.entity_type.toUpperCase(),
        id: link.entity_id,
        matchedOn: "EXTERNAL_ID",
      });
    }
    const [deal] = await t.sql<{ external_id: string; contract_id: string }[]>`
      select s.external_id, c.id::text as contract_id from contract c
      join source_link s on s.entity_type = 'opportunity' and s.entity_id = c.opportunity_id
      order by c.id limit 1`;
    if (deal) {
      const result = await search(deal.external_id);
      expect(result.data!.entitySearch[0]).toMatchObject({
        entityType: "CONTRACT",
        id: deal.contract_id,
        matchedOn: "EXTERNAL_ID",
      });
    }
  });

  it("finds by canonical id, and every customer and project whose name contains the text", async () => {
    const [customer] = await t.sql<{ id: string; name: string }[]>`
      select id::text as id, name from customer order by name limit 1`;
    const byId = await search(customer!.id.toUpperCase());
    expect(byId.data!.entitySearch).toEqual([
      expect.objectContaining({ entityType: "CUSTOMER", id: customer!.id, matchedOn: "ID" }),
    ]);
    const word = customer!.name.split(/\s+/)[0]!.slice(0, 4);
    const expected = await t.sql<{ id: string }[]>`
      select id::text as id from customer where name ilike ${`%${word}%`}
      union all select id::text from project where name ilike ${`%${word}%`} or code ilike ${`%${word}%`}
      union all select id::text from contract where number ilike ${`%${word}%`}
      union all select id::text from invoice where number ilike ${`%${word}%`} or erp_number ilike ${`%${word}%`}`;
    const found = await search(word, {}, 50);
    const ids = found.data!.entitySearch.map((h) => h.id);
    if (expected.length <= 50) {
      expect(new Set(ids)).toEqual(new Set(expected.map((r) => r.id)));
    } else {
      expect(ids).toHaveLength(50);
    }
    // LIKE's wildcards are taken literally.
    expect((await search("%%")).data!.entitySearch).toEqual([]);
  });

  it("a caller scoped to one legal entity finds nothing of another", async () => {
    const [other] = await t.sql<{ id: string; number: string }[]>`
      select i.id::text as id, i.number from invoice i join legal_entity l on l.id = i.legal_entity_id
      where l.code = 'AR-US' and i.number is not null order by i.number limit 1`;
    const us = await search(other!.number, {
      "x-pshub-roles": "finance",
      "x-pshub-legal-entities": "AR-US",
    });
    expect(us.data!.entitySearch.map((h) => h.id)).toContain(other!.id);
    const uk = await search(other!.number, {
      "x-pshub-roles": "finance",
      "x-pshub-legal-entities": "AR-UK",
    });
    expect(uk.errors).toBeUndefined();
    expect(uk.data!.entitySearch.map((h) => h.id)).not.toContain(other!.id);
    for (const hit of uk.data!.entitySearch) expect(hit.legalEntity).toBe("AR-UK");
    const byId = await search(other!.id, {
      "x-pshub-roles": "finance",
      "x-pshub-legal-entities": "AR-UK",
    });
    expect(byId.data!.entitySearch).toEqual([]);
  });

  it("a lineage's entities carry their ids in the source systems", async () => {
    const [inv] = await t.sql<{ id: string }[]>`
      select id::text as id from invoice where correlation_id is not null and status = 'PAID'
      order by number limit 1`;
    const result = await server.execute(
      `query($id: ID!) { lineage(entityType: INVOICE, id: $id) {
        entities { entityType entityId externalIds { system object externalId } } } }`,
      { id: inv!.id },
    );
    expect(result.errors).toBeUndefined();
    const entities = (result.data as Row).lineage.entities as Row[];
    const links = await t.sql<{ entity_id: string; n: number }[]>`
      select entity_id::text as entity_id, count(*)::int as n from source_link
      where entity_id = any(${entities.map((e) => e.entityId)}::uuid[]) group by entity_id`;
    expect(links.length).toBeGreaterThan(0);
    const count = new Map(links.map((l) => [l.entity_id, l.n]));
    for (const entity of entities) {
      expect(entity.externalIds.length, entity.entityId).toBe(count.get(entity.entityId) ?? 0);
    }
  });

  it("refuses too short a text or too large a page, and roles without lineage", async () => {
    expect((await search(" a ")).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect((await search("abc", {}, 51)).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    for (const role of ["analyst", "finance", "integration"]) {
      expect((await search("ab", { "x-pshub-roles": role })).errors, role).toBeUndefined();
    }
    for (const role of ["sales", "delivery"]) {
      const refused = await search("ab", { "x-pshub-roles": role });
      expect(refused.errors?.[0]?.extensions?.code, role).toBe("FORBIDDEN");
    }
  });
});
