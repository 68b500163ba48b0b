/**
 * Roles and legal-entity scope through the whole stack (issue 9 items 3 and 4).
 *
 * 1. The role matrix, GENERATED from the composed API schema (gateway/api-schema.graphql): every
 *    Query field, Mutation and Subscription is run as every role, unscoped and scoped to each of
 *    two legal entities, and each cell is asserted against {@link EXPECTED} — the policy written
 *    down here, independently of the SDL directives that implement it. A field of the schema
 *    without an entry in EXPECTED fails the test, so a new field cannot ship without a rule.
 * 2. Legal-entity isolation: the demo firm (US, UK and DE entities) plus hub-table rows of two
 *    entities; a principal scoped to one sees nothing of the other in lists, totals, by-id
 *    lookups, entity references resolved by another subgraph, subscriptions, lineage and the ops
 *    tables. The expected rows come from {@link OWNED_SQL}, hand-written joins that state which
 *    entity owns what (not the scoping helper under test).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execute, operations, seed } from "@pshub/db";
import { createPrincipalSigner } from "@pshub/subgraph-kit";
import {
  buildSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from "graphql";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Stack, startStack } from "./support/stack.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const apiSchema = buildSchema(
  readFileSync(path.join(repoRoot, "gateway/api-schema.graphql"), "utf8"),
);

type Role = "analyst" | "sales" | "delivery" | "finance" | "integration" | "admin";
const ROLES: Role[] = ["analyst", "sales", "delivery", "finance", "integration", "admin"];

// The policy (README "Roles"). admin may do everything; it is listed explicitly all the same.
const COMMERCIAL: Role[] = ["analyst", "sales", "delivery", "finance", "admin"];
const PROJECTS: Role[] = ["analyst", "sales", "delivery", "finance", "admin"];
const DELIVERY: Role[] = ["analyst", "delivery", "finance", "admin"];
const BILLING: Role[] = ["analyst", "finance", "admin"];
const INVOICES: Role[] = ["analyst", "finance", "admin"];
const EXCEPTIONS: Role[] = ["analyst", "sales", "delivery", "finance", "integration", "admin"];
const EVENTS: Role[] = ["analyst", "finance", "integration", "admin"];
const SYNC: Role[] = ["analyst", "integration", "admin"];
const only = (...roles: Role[]): Role[] => [...roles, "admin"];

const EXPECTED: Record<string, Role[]> = {
  "Query.billingEvent": BILLING,
  "Query.billingEvents": BILLING,
  "Query.billingRule": BILLING,
  "Query.billingRules": BILLING,
  "Query.feeScheduleItems": BILLING,
  "Query.customer": COMMERCIAL,
  "Query.customers": COMMERCIAL,
  "Query.contact": COMMERCIAL,
  "Query.contacts": COMMERCIAL,
  "Query.opportunity": COMMERCIAL,
  "Query.opportunities": COMMERCIAL,
  "Query.contract": COMMERCIAL,
  "Query.contracts": COMMERCIAL,
  "Query.legalEntity": COMMERCIAL,
  "Query.legalEntities": COMMERCIAL,
  "Query.taxRate": COMMERCIAL,
  "Query.taxRates": COMMERCIAL,
  "Query.invoice": INVOICES,
  "Query.invoices": INVOICES,
  "Query.invoiceLine": INVOICES,
  "Query.invoiceLines": INVOICES,
  "Query.payment": INVOICES,
  "Query.payments": INVOICES,
  "Query.dispute": INVOICES,
  "Query.disputes": INVOICES,
  "Query.syncException": EXCEPTIONS,
  "Query.syncExceptions": EXCEPTIONS,
  "Query.domainEvents": EVENTS,
  "Query.lineage": EVENTS,
  /** "Where is it?": the same readers as lineage (ops subgraph EntitySearchHit). */
  "Query.entitySearch": EVENTS,
  "Query.auditLog": only(),
  "Query.sourceLinks": SYNC,
  "Query.syncCursors": SYNC,
  "Query.inboxEvents": SYNC,
  "Query.outboundCommands": SYNC,
  "Query.outboundCommand": SYNC,
  "Query.syncStatus": SYNC,
  /** Lag samples belong to no legal entity: the same series for every scope. */
  "Query.syncLagHistory": SYNC,
  "Query.resyncRequest": SYNC,
  /** Business KPIs: analysts and finance (ops subgraph Kpis). */
  "Query.kpis": ["analyst", "finance", "admin"],
  "Query.project": PROJECTS,
  "Query.projects": PROJECTS,
  "Query.milestone": DELIVERY,
  "Query.milestones": DELIVERY,
  "Query.resource": DELIVERY,
  "Query.resources": DELIVERY,
  "Query.assignment": DELIVERY,
  "Query.assignments": DELIVERY,
  "Query.timeEntry": DELIVERY,
  "Query.timeEntries": DELIVERY,
  "Query.expense": DELIVERY,
  "Query.expenses": DELIVERY,
  "Mutation.runBilling": only("finance"),
  "Mutation.setBillingSchedule": only("finance"),
  "Mutation.convertOpportunity": only("sales"),
  "Mutation.generateInvoice": only("finance"),
  "Mutation.issueInvoice": only("finance"),
  "Mutation.recordPayment": only("finance"),
  "Mutation.disputeInvoice": only("finance"),
  "Mutation.resolveDispute": only("finance"),
  "Mutation.voidInvoice": only("finance"),
  "Mutation.resolveException": only("finance", "integration"),
  "Mutation.resyncEntity": only("integration"),
  "Mutation.retryException": only("finance", "integration"),
  "Mutation.ignoreException": only("finance", "integration"),
  "Mutation.replayCommand": only("integration"),
  "Mutation.activateProject": only("delivery"),
  "Mutation.approveTimeEntry": only("delivery"),
  "Mutation.rejectTimeEntry": only("delivery"),
  "Mutation.approveTimeEntries": only("delivery"),
  "Mutation.rejectTimeEntries": only("delivery"),
  "Mutation.approveExpense": only("delivery"),
  "Mutation.rejectExpense": only("delivery"),
  "Mutation.approveExpenses": only("delivery"),
  "Mutation.rejectExpenses": only("delivery"),
  "Mutation.completeMilestone": only("delivery"),
  "Mutation.approveMilestone": only("delivery"),
  "Subscription.billingEventCreated": BILLING,
  "Subscription.invoiceStatusChanged": INVOICES,
  "Subscription.invoiceEvents": INVOICES,
  "Subscription.syncExceptionRaised": EXCEPTIONS,
  "Subscription.projectStatusChanged": PROJECTS,
  "Subscription.timeEntryStatusChanged": DELIVERY,
  "Subscription.expenseStatusChanged": DELIVERY,
  "Subscription.milestoneStatusChanged": DELIVERY,
};

/** The table (entity_type) behind each node type; null: reference data of no legal entity. */
const KIND: Record<string, string | null> = {
  BillingEvent: "billing_event",
  BillingRule: "contract",
  FeeScheduleItem: "fee_schedule_item",
  Customer: "customer",
  Contact: "contact",
  Opportunity: "opportunity",
  Contract: "contract",
  LegalEntity: "legal_entity",
  TaxRate: null,
  Invoice: "invoice",
  InvoiceLine: "invoice_line",
  Payment: "payment",
  Dispute: "dispute",
  SyncException: "sync_exception",
  LineageEvent: "domain_event",
  AuditLogEntry: "audit_log",
  SourceLink: "source_link",
  SyncCursor: null,
  InboxEvent: "inbox_event",
  OutboundCommand: "outbound_command",
  ResyncRequest: "resync_request",
  Project: "project",
  Milestone: "milestone",
  Resource: "resource",
  Assignment: "assignment",
  TimeEntry: "time_entry",
  Expense: "expense",
};

/**
 * Who owns what, stated with plain joins: (kind, id, legal-entity code) for every row of the
 * demo firm and of the hub tables. A contract, invoice or resource has its own entity; contacts
 * and opportunities are their customer's; projects and their work are their contract's.
 */
const OWNED_SQL = `
  with recursive base(kind, id, code) as (
    select 'legal_entity', l.id::text, l.code from legal_entity l
    union all select 'customer', c.id::text, l.code from customer c join legal_entity l on l.id = c.legal_entity_id
    union all select 'contact', x.id::text, l.code from contact x join customer c on c.id = x.customer_id join legal_entity l on l.id = c.legal_entity_id
    union all select 'opportunity', o.id::text, l.code from opportunity o join customer c on c.id = o.customer_id join legal_entity l on l.id = c.legal_entity_id
    union all select 'contract', k.id::text, l.code from contract k join legal_entity l on l.id = k.legal_entity_id
    union all select 'fee_schedule_item', f.id::text, l.code from fee_schedule_item f join contract k on k.id = f.contract_id join legal_entity l on l.id = k.legal_entity_id
    union all select 'billing_event', b.id::text, l.code from billing_event b join contract k on k.id = b.contract_id join legal_entity l on l.id = k.legal_entity_id
    union all select 'project', p.id::text, l.code from project p join contract k on k.id = p.contract_id join legal_entity l on l.id = k.legal_entity_id
    union all select 'milestone', m.id::text, l.code from milestone m join project p on p.id = m.project_id join contract k on k.id = p.contract_id join legal_entity l on l.id = k.legal_entity_id
    union all select 'assignment', a.id::text, l.code from assignment a join project p on p.id = a.project_id join contract k on k.id = p.contract_id join legal_entity l on l.id = k.legal_entity_id
    union all select 'time_entry', t.id::text, l.code from time_entry t join project p on p.id = t.project_id join contract k on k.id = p.contract_id join legal_entity l on l.id = k.legal_entity_id
    union all select 'expense', e.id::text, l.code from expense e join project p on p.id = e.project_id join contract k on k.id = p.contract_id join legal_entity l on l.id = k.legal_entity_id
    union all select 'resource', r.id::text, l.code from resource r join legal_entity l on l.id = r.legal_entity_id
    union all select 'invoice', i.id::text, l.code from invoice i join legal_entity l on l.id = i.legal_entity_id
    union all select 'invoice_line', x.id::text, l.code from invoice_line x join invoice i on i.id = x.invoice_id join legal_entity l on l.id = i.legal_entity_id
    union all select 'payment', x.id::text, l.code from payment x join invoice i on i.id = x.invoice_id join legal_entity l on l.id = i.legal_entity_id
    union all select 'dispute', x.id::text, l.code from dispute x join invoice i on i.id = x.invoice_id join legal_entity l on l.id = i.legal_entity_id
  )
  select * from base
  union all select 'domain_event', d.id::text, b.code from domain_event d join base b on b.kind = d.entity_type and b.id = d.entity_id::text
  union all select 'audit_log', d.id::text, b.code from audit_log d join base b on b.kind = d.entity_type and b.id = d.entity_id::text
  union all select 'inbox_event', d.id::text, b.code from inbox_event d join base b on b.kind = d.entity_type and b.id = d.entity_id::text
  union all select 'outbound_command', d.id::text, b.code from outbound_command d join base b on b.kind = d.entity_type and b.id = d.entity_id::text
  union all select 'sync_exception', d.id::text, b.code from sync_exception d join base b on b.kind = d.entity_type and b.id = d.entity_id::text
  union all select 'source_link', d.id::text, b.code from source_link d join base b on b.kind = d.entity_type and b.id = d.entity_id::text
  union all select 'resync_request', d.id::text, b.code from resync_request d join base b on b.kind = d.entity_type and b.id = d.entity_id::text`;

const HOME = "AR-UK";
const OTHER = "AR-US";

let stack: Stack;
/** kind → code → ids */
let owned: Map<string, Map<string, Set<string>>>;
const ids = (kind: string, code: string) => owned.get(kind)?.get(code) ?? new Set<string>();
const anyId = (kind: string, code: string = HOME): string | undefined =>
  [...ids(kind, code)].sort()[0];

async function loadOwned() {
  const rows =
    await stack.database.sql.unsafe<{ kind: string; id: string; code: string }[]>(OWNED_SQL);
  owned = new Map();
  for (const { kind, id, code } of rows) {
    const byCode = owned.get(kind) ?? new Map<string, Set<string>>();
    owned.set(kind, byCode);
    const set = byCode.get(code) ?? new Set<string>();
    byCode.set(code, set);
    set.add(id.toLowerCase());
  }
}

const headersOf = (role: Role, scope?: string) => ({
  "x-pshub-principal": `${role}${scope ? `-${scope}` : ""}@authz.test`,
  "x-pshub-roles": role,
  ...(scope ? { "x-pshub-legal-entities": scope } : {}),
});

interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
}
// biome-ignore lint/suspicious/noExplicitAny: responses are walked ad hoc
type Json = { data?: any; errors?: GqlError[] };

async function run(query: string, role: Role, scope?: string): Promise<Json> {
  const { json } = await stack.query(query, {}, headersOf(role, scope));
  return json as Json;
}

const codes = (json: Json) => (json.errors ?? []).map((e) => e.extensions?.code);
const forbiddenAt = (json: Json, field: string) =>
  (json.errors ?? []).some((e) => e.extensions?.code === "FORBIDDEN" && e.path?.[0] === field);

// ---------------------------------------------------------------------------------------------
// Operations generated from the schema
// ---------------------------------------------------------------------------------------------

const nodeTypeOf = (type: GraphQLNamedType): GraphQLNamedType | undefined => {
  if (!isObjectType(type)) return undefined;
  const nodes = type.getFields().nodes;
  return nodes ? getNamedType(nodes.type) : undefined;
};

/** A small selection that reaches the type's guarded fields: id, else a leaf, else __typename. */
function selectionOf(type: GraphQLNamedType): string {
  if (!isObjectType(type)) return "";
  const fields = type.getFields();
  const node = nodeTypeOf(type);
  if (node && fields.totalCount) return `{ totalCount nodes ${selectionOf(node)} }`;
  if (fields.id) return "{ id }";
  if (fields.contract) return "{ contract { id } }";
  const leaf = Object.values(fields).find(
    (f) =>
      f.args.every((a) => !isNonNullType(a.type)) &&
      (isScalarType(getNamedType(f.type)) || isEnumType(getNamedType(f.type))),
  );
  return `{ ${leaf?.name ?? "__typename"} }`;
}

const ZERO_UUID = "00000000-0000-4000-8000-000000000000";

/** A literal for an argument: a real id of the HOME entity where the name says what it is. */
function literal(arg: { name: string; type: GraphQLInputType }, field: string): string | undefined {
  const type = isNonNullType(arg.type) ? arg.type.ofType : arg.type;
  if (isListType(type)) {
    const inner = literal({ name: arg.name, type: type.ofType as GraphQLInputType }, field);
    return inner === undefined ? undefined : `[${inner}]`;
  }
  const named = getNamedType(type);
  if (isInputObjectType(named)) {
    const parts = Object.values(named.getFields())
      .filter((f) => isNonNullType(f.type))
      .map((f) => `${f.name}: ${literal(f, field)}`);
    return `{ ${parts.join(", ")} }`;
  }
  if (isEnumType(named)) {
    const values = named.getValues().map((v) => v.name);
    return values.includes("INVOICE") ? "INVOICE" : values[0];
  }
  switch (named.name) {
    case "ID": {
      const kind = idKind(arg.name, field);
      return JSON.stringify((kind && anyId(kind)) ?? ZERO_UUID);
    }
    case "Date":
      return '"2026-11-30"';
    case "Decimal":
      return '"1.00"';
    case "Int":
      return "1";
    case "Boolean":
      return "true";
    case "String":
      return arg.name === "entityType" ? '"invoice"' : '"authz matrix"';
    default:
      return '"x"';
  }
}

/** Which table an id argument names. */
function idKind(argName: string, field: string): string | undefined {
  const byName: Record<string, string> = {
    invoiceId: "invoice",
    contractId: "contract",
    customerId: "customer",
    opportunityId: "opportunity",
    projectId: "project",
    milestoneId: "milestone",
    disputeId: "dispute",
    exceptionId: "sync_exception",
    commandId: "outbound_command",
  };
  if (byName[argName]) return byName[argName];
  if (argName !== "id" && argName !== "ids") return undefined;
  if (/TimeEntr/.test(field)) return "time_entry";
  if (/Expense/.test(field)) return "expense";
  const returned = getNamedType(
    (
      apiSchema.getQueryType()?.getFields()[field] ??
      apiSchema.getMutationType()?.getFields()[field]
    )?.type ?? apiSchema.getQueryType()!,
  );
  if (field === "lineage") return "invoice";
  if (field === "resyncEntity") return "invoice";
  return KIND[returned.name] ?? undefined;
}

function argumentsOf(field: GraphQLField<unknown, unknown>): string {
  const args = field.args
    .filter((a: GraphQLArgument) => isNonNullType(a.type))
    .map((a) => `${a.name}: ${literal(a, field.name)}`);
  if (field.args.some((a) => a.name === "first") && !args.some((a) => a.startsWith("first:")))
    args.push("first: 500");
  return args.length ? `(${args.join(", ")})` : "";
}

const rootFields = (root: "Query" | "Mutation" | "Subscription") => {
  const type =
    root === "Query"
      ? apiSchema.getQueryType()
      : root === "Mutation"
        ? apiSchema.getMutationType()
        : apiSchema.getSubscriptionType();
  return Object.values(type?.getFields() ?? {});
};

const operationOf = (
  root: "Query" | "Mutation" | "Subscription",
  f: GraphQLField<unknown, unknown>,
) =>
  `${root === "Query" ? "query" : root === "Mutation" ? "mutation" : "subscription"} { ${f.name}${argumentsOf(f)} ${selectionOf(getNamedType(f.type))} }`;

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  stack = await startStack({ subscriptions: true });
  const { sql } = stack.database;
  await seed.seedDemo(sql);
  // Hub-table rows of two legal entities (the demo firm has no sync history).
  const invoice = async (code: string) =>
    (
      await sql<{ id: string }[]>`select i.id::text as id from invoice i
        join legal_entity l on l.id = i.legal_entity_id where l.code = ${code} order by i.id limit 1`
    )[0]!.id;
  for (const code of [HOME, OTHER]) {
    const id = await invoice(code);
    await sql`insert into domain_event (type, entity_type, entity_id, actor, payload)
      values ('invoice.created', 'invoice', ${id}, 'authz-test', '{}')`;
    await sql`insert into audit_log (actor, operation, outcome, entity_type, entity_id)
      values ('authz-test', 'issueInvoice', 'OK', 'invoice', ${id})`;
    await sql`insert into inbox_event (source, dedupe_key, object, payload, entity_type, entity_id)
      values ('netsuite', ${`authz-${code}`}, 'invoice', '{}', 'invoice', ${id})`;
    await sql`insert into outbound_command (target, kind, idempotency_key, entity_type, entity_id, payload)
      values ('ERP', 'invoice.post', ${`authz-${code}`}, 'invoice', ${id}, '{}')`;
    await sql`insert into sync_exception (owner, code, message, remediation, due_at, entity_type, entity_id)
      values ('FINANCE', 'AUTHZ_TEST', ${`exception of ${code}`}, 'none', now() + interval '1 day', 'invoice', ${id})`;
    await sql`insert into source_link (entity_type, entity_id, system, object, external_id)
      values ('invoice', ${id}, 'ERP', 'invoice', ${`authz-${code}`}) on conflict do nothing`;
    await sql`insert into resync_request (entity_type, entity_id, system, object, external_id, requested_by)
      values ('invoice', ${id}, 'ERP', 'invoice', ${`authz-${code}`}, 'authz-test')`;
  }
  await loadOwned();
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the role matrix (generated from gateway/api-schema.graphql)", () => {
  it("has a rule for every Query field, Mutation and Subscription of the schema", () => {
    const coordinates = (["Query", "Mutation", "Subscription"] as const).flatMap((root) =>
      rootFields(root).map((f) => `${root}.${f.name}`),
    );
    expect(coordinates.length).toBeGreaterThan(70);
    expect(coordinates.filter((c) => !EXPECTED[c])).toEqual([]);
    expect(Object.keys(EXPECTED).filter((c) => !coordinates.includes(c))).toEqual([]);
  });

  it("every query field: FORBIDDEN for the roles it excludes, the data (scoped by entity) for the rest", async () => {
    const failures: string[] = [];
    for (const field of rootFields("Query")) {
      const query = operationOf("Query", field);
      const returned = getNamedType(field.type);
      const node = nodeTypeOf(returned);
      const kind = KIND[(node ?? returned).name];
      for (const role of ROLES) {
        const allowed = EXPECTED[`Query.${field.name}`]!.includes(role);
        const cell = `${field.name} as ${role}`;
        const all = await run(query, role);
        if (codes(all).includes("INTERNAL_SERVER_ERROR"))
          failures.push(`${cell}: INTERNAL_SERVER_ERROR ${JSON.stringify(all.errors)}`);
        if (!allowed) {
          if (!forbiddenAt(all, field.name)) failures.push(`${cell}: expected FORBIDDEN`);
          if (all.data?.[field.name] != null) failures.push(`${cell}: data returned`);
          // Scoped or not, the role decides first.
          if (!forbiddenAt(await run(query, role, HOME), field.name))
            failures.push(`${cell} (${HOME}): expected FORBIDDEN`);
          continue;
        }
        if (codes(all).includes("FORBIDDEN"))
          failures.push(`${cell}: unexpected FORBIDDEN ${JSON.stringify(all.errors)}`);
        // The entity dimension: scoped to HOME (where the fixtures live) and to OTHER.
        for (const scope of [HOME, OTHER]) {
          const json = await run(query, role, scope);
          const value = json.data?.[field.name];
          if (codes(json).includes("FORBIDDEN") || codes(json).includes("INTERNAL_SERVER_ERROR"))
            failures.push(`${cell} (${scope}): ${JSON.stringify(json.errors)}`);
          if (kind === undefined) continue;
          if (node && value) {
            // A list: only rows of the scope's entity, and a total that counts only them.
            const seen: string[] = value.nodes.map(
              (n: { id?: string; contract?: { id: string } }) =>
                String(n.id ?? n.contract?.id ?? "").toLowerCase(),
            );
            if (kind === null) continue;
            const foreign = seen.filter((id) => !ids(kind, scope).has(id));
            if (foreign.length)
              failures.push(`${cell} (${scope}): rows of other entities ${foreign.slice(0, 3)}`);
            const everything = all.data[field.name];
            if (everything.totalCount <= 500) {
              const expected = everything.nodes.filter(
                (n: { id?: string; contract?: { id: string } }) =>
                  ids(kind, scope).has(String(n.id ?? n.contract?.id ?? "").toLowerCase()),
              ).length;
              if (value.totalCount !== expected)
                failures.push(
                  `${cell} (${scope}): totalCount ${value.totalCount}, expected ${expected}`,
                );
            } else if (value.totalCount >= everything.totalCount) {
              failures.push(
                `${cell} (${scope}): totalCount ${value.totalCount} of ${everything.totalCount}`,
              );
            }
          } else if (!node && kind && field.args.some((a) => isNonNullType(a.type))) {
            // A lookup of a HOME row: found in HOME, not found (null) in OTHER.
            if (!anyId(kind)) continue;
            if (scope === HOME && value == null)
              failures.push(`${cell} (${scope}): null ${JSON.stringify(json.errors)}`);
            if (scope === OTHER && value != null)
              failures.push(`${cell} (${scope}): sees ${HOME}'s row ${JSON.stringify(value)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it("every mutation: FORBIDDEN and nothing changed for the roles it excludes; run for the rest", async () => {
    const { sql } = stack.database;
    const fingerprint = async () =>
      (
        await sql<{ f: string }[]>`select concat_ws(':',
          (select count(*) from domain_event), (select coalesce(sum(version), 0) from invoice),
          (select coalesce(sum(version), 0) from time_entry), (select coalesce(sum(version), 0) from expense),
          (select coalesce(sum(version), 0) from project), (select coalesce(sum(version), 0) from milestone),
          (select coalesce(sum(version), 0) from opportunity), (select count(*) from payment),
          (select count(*) from billing_event), (select count(*) from resync_request),
          (select count(*) from sync_exception where status = 'OPEN')) as f`
      )[0]!.f;
    const failures: string[] = [];
    const mutations = rootFields("Mutation");
    // The refusals first, with real ids of rows in states the mutation could act on.
    const before = await fingerprint();
    for (const field of mutations) {
      const mutation = operationOf("Mutation", field);
      for (const role of ROLES.filter((r) => !EXPECTED[`Mutation.${field.name}`]!.includes(r))) {
        const json = await run(mutation, role);
        if (!forbiddenAt(json, field.name))
          failures.push(`${field.name} as ${role}: ${JSON.stringify(json.errors ?? json.data)}`);
      }
    }
    expect(await fingerprint(), "refused mutations changed nothing").toBe(before);
    // The roles it admits: anything but FORBIDDEN (the transition may well be refused).
    for (const field of mutations) {
      const mutation = operationOf("Mutation", field);
      for (const role of EXPECTED[`Mutation.${field.name}`]!) {
        const json = await run(mutation, role);
        if (codes(json).some((c) => c === "FORBIDDEN" || c === "INTERNAL_SERVER_ERROR"))
          failures.push(`${field.name} as ${role}: ${JSON.stringify(json.errors)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it("every subscription: refused at subscribe (FORBIDDEN) for the roles it excludes", async () => {
    const wsUrl = stack.url.replace(/^http/, "ws");
    const failures: string[] = [];
    for (const field of rootFields("Subscription")) {
      const query = `subscription { ${field.name} { eventId } }`;
      for (const role of ROLES) {
        const allowed = EXPECTED[`Subscription.${field.name}`]!.includes(role);
        const client = createClient({
          url: wsUrl,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          connectionParams: headersOf(role),
        });
        try {
          const outcome = await new Promise<string>((resolve) => {
            const timer = setTimeout(() => resolve("running"), 400);
            client.subscribe(
              { query },
              {
                next: () => {},
                error: (error) => {
                  clearTimeout(timer);
                  const list = Array.isArray(error) ? (error as GqlError[]) : [];
                  resolve(list.map((e) => e.extensions?.code).join(",") || String(error));
                },
                complete: () => {
                  clearTimeout(timer);
                  resolve("complete");
                },
              },
            );
          });
          const expected = allowed ? "running" : "FORBIDDEN";
          if (outcome !== expected)
            failures.push(`${field.name} as ${role}: ${outcome}, expected ${expected}`);
        } finally {
          await client.dispose();
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it("cost rates: null with FORBIDDEN at Resource.costRate for analyst, sales and integration", async () => {
    const query = "{ resources(first: 3) { nodes { id costRate { amount } } } }";
    for (const role of ROLES) {
      const json = await run(query, role);
      const nodes = json.data?.resources?.nodes ?? [];
      if (!DELIVERY.includes(role)) continue; // the list itself is refused (checked above)
      expect(nodes.length, role).toBeGreaterThan(0);
      const mayCost = ["delivery", "finance", "admin"].includes(role);
      for (const node of nodes) expect(node.costRate === null, role).toBe(!mayCost);
      const costErrors = (json.errors ?? []).filter(
        (e) => e.extensions?.code === "FORBIDDEN" && e.path?.at(-1) === "costRate",
      );
      expect(costErrors.length, role).toBe(mayCost ? 0 : nodes.length);
    }
  });
});

describe("legal-entity isolation (two entities)", () => {
  const finance = (scope?: string) => headersOf("finance", scope);
  // The matrix above ran mutations (new invoices, events, audit rows): who owns what, again.
  beforeAll(loadOwned);

  it("the fixtures hold rows of both entities on every path", () => {
    for (const kind of [
      "customer",
      "contract",
      "project",
      "time_entry",
      "invoice",
      "payment",
      "domain_event",
      "audit_log",
      "inbox_event",
      "outbound_command",
      "sync_exception",
      "source_link",
    ]) {
      expect(ids(kind, HOME).size, kind).toBeGreaterThan(0);
      expect(ids(kind, OTHER).size, kind).toBeGreaterThan(0);
    }
  });

  it("totals and KPIs count only the scope's rows", async () => {
    const query = `{ invoices { totalCount } customers { totalCount } timeEntries { totalCount }
      syncExceptions { totalCount } }`;
    const all = (await stack.query(query, {}, headersOf("admin"))).json;
    const home = (await stack.query(query, {}, headersOf("admin", HOME))).json;
    const other = (await stack.query(query, {}, headersOf("admin", OTHER))).json;
    expect(home.data.invoices.totalCount).toBe(ids("invoice", HOME).size);
    expect(other.data.invoices.totalCount).toBe(ids("invoice", OTHER).size);
    expect(home.data.customers.totalCount).toBe(ids("customer", HOME).size);
    expect(home.data.timeEntries.totalCount).toBe(ids("time_entry", HOME).size);
    expect(
      home.data.timeEntries.totalCount + other.data.timeEntries.totalCount,
    ).toBeLessThanOrEqual(all.data.timeEntries.totalCount);
    // Unbilled totals of a HOME customer: nothing of another entity's contracts counts. With
    // the scope of another entity the customer itself is not found.
    const customerId = anyId("customer");
    const unbilled = `{ customer(id: "${customerId}") { id unbilledWithSubsidiaries { currency total { amount } } } }`;
    expect((await stack.query(unbilled, {}, finance(OTHER))).json.data.customer).toBeNull();
    expect((await stack.query(unbilled, {}, finance(HOME))).json.data.customer.id).toBe(customerId);
  });

  it("by id and through nested lists: another entity's row is not found", async () => {
    const invoiceId = anyId("invoice", OTHER)!;
    const json = (await stack.query(`{ invoice(id: "${invoiceId}") { id } }`, {}, finance(HOME)))
      .json;
    expect(json.data.invoice).toBeNull();
    expect(codes(json), JSON.stringify(json.errors)).toEqual(["NOT_FOUND"]);
    const customerId = anyId("customer", OTHER)!;
    const nested = (
      await stack.query(
        `{ customers(first: 100) { nodes { id invoices(first: 100) { nodes { id } } } } }`,
        {},
        finance(HOME),
      )
    ).json;
    expect(nested.errors).toBeUndefined();
    const customers = nested.data.customers.nodes as {
      id: string;
      invoices: { nodes: { id: string }[] };
    }[];
    expect(customers.map((c) => c.id)).not.toContain(customerId);
    for (const c of customers)
      for (const i of c.invoices.nodes) expect(ids("invoice", HOME).has(i.id)).toBe(true);
  });

  it("entity references resolved by another subgraph find nothing of another entity", async () => {
    // The gateway only builds representations from rows it was given; a subgraph is asked
    // directly here, with the gateway's signature, as the gateway would for a reference.
    const sign = createPrincipalSigner(stack.subgraphSecret);
    const token = await sign({
      id: "finance-uk@authz.test",
      roles: ["finance"],
      legalEntities: [HOME],
      method: "development",
    });
    const entities = async (
      typename: string,
      id: string,
      subgraph: "customer" | "invoice" | "project",
    ) => {
      const response = await fetch(stack.subgraphs[subgraph].url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-pshub-principal-token": token },
        body: JSON.stringify({
          query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { id } } }`,
          variables: { r: [{ __typename: typename, id }] },
        }),
      });
      return (await response.json()) as Json;
    };
    expect(
      (await entities("Customer", anyId("customer", OTHER)!, "customer")).data._entities,
    ).toEqual([null]);
    expect((await entities("Invoice", anyId("invoice", OTHER)!, "invoice")).data._entities).toEqual(
      [null],
    );
    expect((await entities("Project", anyId("project", OTHER)!, "project")).data._entities).toEqual(
      [null],
    );
    const own = await entities("Invoice", anyId("invoice", HOME)!, "invoice");
    expect(own.data._entities).toEqual([{ id: anyId("invoice", HOME) }]);

    // A stub entity (BillingEvent is the billing subgraph's; invoice only adds its live line):
    // the line is read inside the scope, so another entity's billing event shows no line.
    const billedEvent = async (code: string) => {
      const [row] = await stack.database.sql.unsafe<{ id: string }[]>(
        `select b.id::text as id from billing_event b join invoice_line l on l.billing_event_id = b.id
           and l.voided_at is null join contract k on k.id = b.contract_id
           join legal_entity e on e.id = k.legal_entity_id where e.code = $1 order by b.id limit 1`,
        [code],
      );
      return row!.id;
    };
    const lineOf = async (id: string) => {
      const response = await fetch(stack.subgraphs.invoice.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-pshub-principal-token": token },
        body: JSON.stringify({
          query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on BillingEvent { invoiceLine { id } } } }`,
          variables: { r: [{ __typename: "BillingEvent", id }] },
        }),
      });
      return ((await response.json()) as Json).data._entities[0].invoiceLine;
    };
    expect(await lineOf(await billedEvent(OTHER))).toBeNull();
    expect(await lineOf(await billedEvent(HOME))).toEqual({ id: expect.any(String) });
  });

  it("lineage: another entity's chain is not found, and a chain shows only the scope's events", async () => {
    const lineage = (id: string) =>
      `{ lineage(entityType: INVOICE, id: "${id}") { entities { entityType entityId } events { id } } }`;
    const foreign = (await stack.query(lineage(anyId("invoice", OTHER)!), {}, finance(HOME))).json;
    expect(foreign.data?.lineage ?? null).toBeNull();
    expect(codes(foreign)).toContain("NOT_FOUND");
    const homeInvoice = [...ids("invoice", HOME)].find((id) => id);
    const own = (await stack.query(lineage(homeInvoice!), {}, finance(HOME))).json;
    for (const event of own.data.lineage.events)
      expect(ids("domain_event", HOME).has(event.id)).toBe(true);
  });

  it("ops tables: exceptions, inbox, outbound, audit, source links, domain events", async () => {
    const tables: [string, string][] = [
      ["syncExceptions", "sync_exception"],
      ["inboxEvents", "inbox_event"],
      ["outboundCommands", "outbound_command"],
      ["auditLog", "audit_log"],
      ["sourceLinks", "source_link"],
      ["domainEvents", "domain_event"],
    ];
    for (const [field, kind] of tables) {
      const json = (
        await stack.query(
          `{ ${field}(first: 500) { totalCount nodes { id } } }`,
          {},
          headersOf("admin", HOME),
        )
      ).json;
      const seen = json.data[field].nodes.map((n: { id: string }) => n.id.toLowerCase());
      expect(seen.length, field).toBeGreaterThan(0);
      expect(
        seen.filter((id: string) => !ids(kind, HOME).has(id)),
        field,
      ).toEqual([]);
      expect(json.data[field].totalCount, field).toBe(ids(kind, HOME).size);
    }
    const exceptionId = anyId("sync_exception", OTHER)!;
    const one = (
      await stack.query(`{ syncException(id: "${exceptionId}") { id } }`, {}, finance(HOME))
    ).json;
    expect(one.data.syncException).toBeNull();
  });

  it("mutations on another entity's rows answer NOT_FOUND and change nothing", async () => {
    const { sql } = stack.database;
    const invoiceId = anyId("invoice", OTHER)!;
    const [before] = await sql<{ status: string; version: number }[]>`
      select status::text as status, version from invoice where id = ${invoiceId}`;
    const json = (
      await stack.query(
        `mutation { voidInvoice(invoiceId: "${invoiceId}", reason: "not mine") { id status } }`,
        {},
        finance(HOME),
      )
    ).json;
    expect(codes(json), JSON.stringify(json.errors)).toEqual(["NOT_FOUND"]);
    const [after] = await sql<{ status: string; version: number }[]>`
      select status::text as status, version from invoice where id = ${invoiceId}`;
    expect(after).toEqual(before);
    // runBilling over "everything" would reach other entities: a scoped caller must name one.
    const everything = (
      await stack.query(
        `mutation { runBilling(periodEnd: "2026-11-30") { __typename } }`,
        {},
        finance(HOME),
      )
    ).json;
    expect(codes(everything), JSON.stringify(everything.errors)).toEqual(["FORBIDDEN"]);
  });

  it("subscriptions deliver only the scope's events", async () => {
    const wsUrl = stack.url.replace(/^http/, "ws");
    const issued = async (code: string) =>
      (
        await stack.database.sql<{ id: string }[]>`select i.id::text as id from invoice i
          join legal_entity l on l.id = i.legal_entity_id
          where l.code = ${code} and i.status in ('ISSUED', 'POSTED') order by i.id limit 1`
      )[0]!.id;
    const homeInvoice = await issued(HOME);
    const otherInvoice = await issued(OTHER);
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: finance(HOME),
    });
    // Every event delivered, whatever it carries (an event of another entity would arrive with
    // a null invoice and an error if only the entity fetch were scoped).
    const delivered: { invoiceId: string | null }[] = [];
    try {
      const subscribed = new Promise<void>((resolve) => setTimeout(resolve, 300));
      client.subscribe(
        { query: "subscription { invoiceStatusChanged { eventId invoice { id } } }" },
        {
          next: (r) => {
            const event = (r.data as { invoiceStatusChanged?: { invoice?: { id: string } | null } })
              ?.invoiceStatusChanged;
            delivered.push({ invoiceId: event?.invoice?.id ?? null });
          },
          error: () => {},
          complete: () => {},
        },
      );
      await subscribed;
      const actor = { actor: "authz-test" };
      await execute(stack.db, operations.disputeInvoice, actor, {
        invoiceId: otherInvoice,
        reason: "x",
      });
      await execute(stack.db, operations.disputeInvoice, actor, {
        invoiceId: homeInvoice,
        reason: "x",
      });
      const deadline = Date.now() + 15_000;
      while (!delivered.some((d) => d.invoiceId === homeInvoice) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      // The OTHER event was committed first and events are delivered in order: had it been
      // delivered at all, it would be here before the HOME one.
      expect(delivered).toEqual([{ invoiceId: homeInvoice }]);
    } finally {
      await client.dispose();
    }
  }, 60_000);

  it("time-entry approvals on a subscription: only the scope's, narrowed by project and status", async () => {
    const wsUrl = stack.url.replace(/^http/, "ws");
    const submitted = async (code: string) =>
      (
        await stack.database.sql<{ id: string; project_id: string }[]>`
          select t.id::text as id, t.project_id::text as project_id from time_entry t
          join project p on p.id = t.project_id join contract k on k.id = p.contract_id
          join legal_entity l on l.id = k.legal_entity_id
          where l.code = ${code} and t.status = 'SUBMITTED' order by t.id limit 1`
      )[0]!;
    const home = await submitted(HOME);
    const other = await submitted(OTHER);
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: headersOf("delivery", HOME),
    });
    const seen: { all: string[]; project: string[]; rejected: string[] } = {
      all: [],
      project: [],
      rejected: [],
    };
    const listen = (list: string[], args: string) =>
      client.subscribe(
        {
          query: `subscription { timeEntryStatusChanged${args} { eventId previousStatus status timeEntry { id status } } }`,
        },
        {
          next: (r) => {
            // Every event counts, also one whose entry could not be fetched (a leak all the same).
            const e = (
              r.data as {
                timeEntryStatusChanged?: { eventId: string; timeEntry?: { id: string } | null };
              }
            )?.timeEntryStatusChanged;
            list.push(e?.timeEntry?.id ?? `event ${e?.eventId} ${JSON.stringify(r.errors)}`);
          },
          error: (e) => list.push(`error ${JSON.stringify(e)}`),
          complete: () => {},
        },
      );
    try {
      listen(seen.all, "");
      listen(seen.project, `(projectId: "${home.project_id}", status: APPROVED)`);
      listen(seen.rejected, "(status: REJECTED)");
      await new Promise((r) => setTimeout(r, 300));
      const actor = { actor: "authz-test" };
      await execute(stack.db, operations.approveTimeEntries, actor, { ids: [other.id] });
      await execute(stack.db, operations.approveTimeEntries, actor, { ids: [home.id] });
      const deadline = Date.now() + 15_000;
      while (
        !(seen.all.includes(home.id) && seen.project.includes(home.id)) &&
        Date.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 50));
      // The OTHER approval came first: had it been delivered, it would be here by now.
      expect(seen.all).toEqual([home.id]);
      expect(seen.project).toEqual([home.id]);
      expect(seen.rejected).toEqual([]);
    } finally {
      await client.dispose();
    }
  }, 60_000);
});
