/**
 * entitySearch ("Where is it?"): customers, contracts, projects and invoices by canonical id, by
 * any source system's id (source_link; an opportunity's Salesforce id finds its contracts), by
 * number or code, or by name — in one statement, inside the caller's legal entities (the scope
 * condition of each entity's own table: a hit outside them is never read).
 */
import { type Db, inLegalEntityScope, type LegalEntityScope } from "@pshub/db";
import { contract, customer, invoice, project } from "@pshub/db/schema";
import { BadUserInputError } from "@pshub/subgraph-kit";
import { sql } from "drizzle-orm";

type SearchEntityType = "CUSTOMER" | "CONTRACT" | "PROJECT" | "INVOICE";
type SearchMatch = "ID" | "EXTERNAL_ID" | "NUMBER" | "NAME";

export interface EntitySearchRow {
  entityType: SearchEntityType;
  id: string;
  label: string;
  customerName: string | null;
  legalEntity: string | null;
  status: string | null;
  matchedOn: SearchMatch;
}

const MATCHES: SearchMatch[] = ["ID", "EXTERNAL_ID", "NUMBER", "NAME"];
const MAX_FIRST = 50;

/** `%text%` for ILIKE, with the text's own wildcards and backslashes taken literally. */
const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function entitySearch(
  db: Db,
  args: { text: string; first?: number | null },
  scope: LegalEntityScope,
): Promise<EntitySearchRow[]> {
  const text = args.text.trim();
  if (text.length < 2 || text.length > 200) {
    throw new BadUserInputError("text must have 2 to 200 characters", { argument: "text" });
  }
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
    throw new BadUserInputError(`first must be between 1 and ${MAX_FIRST}`, { argument: "first" });
  }
  const lower = text.toLowerCase();
  const like = containsPattern(text);
  const prefix = `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  // How close a text match is: 0 equal, 1 prefix, 2 contains.
  const closeness = (column: ReturnType<typeof sql>) =>
    sql`case when lower(${column}) = ${lower} then 0 when ${column} ilike ${prefix} then 1 else 2 end`;
  const scoped = (table: Parameters<typeof inLegalEntityScope>[0]) =>
    inLegalEntityScope(table, scope) ?? sql`true`;
  const rows = await db.execute<{
    kind: string;
    id: string;
    label: string;
    customer_name: string | null;
    legal_entity: string | null;
    status: string | null;
    rank: number;
  }>(sql`
    with candidate(kind, id, rank, closeness) as (
      select 'customer', id, 0, 0 from customer where id::text = ${lower}
      union all select 'contract', id, 0, 0 from contract where id::text = ${lower}
      union all select 'project', id, 0, 0 from project where id::text = ${lower}
      union all select 'invoice', id, 0, 0 from invoice where id::text = ${lower}
      union all
      select entity_type, entity_id, 1, 0 from source_link
        where entity_type in ('customer', 'contract', 'project', 'invoice')
          and (lower(external_id) = ${lower}
               or (length(${text}) = 15 and left(external_id, 15) = ${text}))
      union all
      select 'contract', contract.id, 1, 0 from contract join source_link s
        on s.entity_type = 'opportunity' and s.entity_id = contract.opportunity_id
        where lower(s.external_id) = ${lower}
           or (length(${text}) = 15 and left(s.external_id, 15) = ${text})
      union all select 'contract', id, 2, ${closeness(sql`number`)} from contract
        where number ilike ${like}
      union all select 'invoice', id, 2, ${closeness(sql`number`)} from invoice
        where number ilike ${like}
      union all select 'invoice', id, 2, ${closeness(sql`erp_number`)} from invoice
        where erp_number ilike ${like}
      union all select 'project', id, 2, ${closeness(sql`code`)} from project where code ilike ${like}
      union all select 'project', id, 3, ${closeness(sql`name`)} from project where name ilike ${like}
      union all select 'customer', id, 3, ${closeness(sql`name`)} from customer
        where name ilike ${like}
    ),
    best as (
      select distinct on (kind, id) kind, id, rank, closeness from candidate
      order by kind, id, rank, closeness
    ),
    hit(kind, id, label, customer_name, legal_entity_id, status) as (
      select 'customer', customer.id, customer.name, null::text, customer.legal_entity_id,
        customer.status::text
        from customer where customer.id in (select id from best where kind = 'customer')
          and ${scoped(customer)}
      union all
      select 'contract', contract.id, contract.number,
        (select c.name from customer c where c.id = contract.customer_id), contract.legal_entity_id,
        contract.status::text
        from contract where contract.id in (select id from best where kind = 'contract')
          and ${scoped(contract)}
      union all
      select 'project', project.id, project.name || ' (' || project.code || ')',
        (select c.name from customer c where c.id = project.customer_id),
        (select k.legal_entity_id from contract k where k.id = project.contract_id),
        project.status::text
        from project where project.id in (select id from best where kind = 'project')
          and ${scoped(project)}
      union all
      select 'invoice', invoice.id, coalesce(invoice.number, 'draft ' || left(invoice.id::text, 8)),
        (select c.name from customer c where c.id = invoice.customer_id), invoice.legal_entity_id,
        invoice.status::text
        from invoice where invoice.id in (select id from best where kind = 'invoice')
          and ${scoped(invoice)}
    )
    select hit.kind, hit.id::text as id, hit.label, hit.customer_name, l.code as legal_entity,
      hit.status, best.rank
    from hit join best on best.kind = hit.kind and best.id = hit.id
    left join legal_entity l on l.id = hit.legal_entity_id
    order by best.rank, best.closeness, hit.label, hit.id
    limit ${first}`);
  return rows.map((r) => ({
    entityType: r.kind.toUpperCase() as SearchEntityType,
    id: r.id,
    label: r.label,
    customerName: r.customer_name,
    legalEntity: r.legal_entity,
    status: r.status,
    matchedOn: MATCHES[Number(r.rank)] ?? "NAME",
  }));
}
