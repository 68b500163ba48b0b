import { builders, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { OperationResult } from "@pshub/subgraph-kit";
import {
  listen,
  type RunningSubgraph,
  type SubgraphServer,
  undocumented,
} from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInvoiceSubgraph } from "./index.ts";
import type { InvoiceLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<InvoiceLoaders>;
let running: RunningSubgraph;
const statements: string[] = [];

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables);

const INVOICES = 60;
let customerA: string;
let customerB: string;
let contractA: string;
let legalEntityB: string;
const invoiceIds: string[] = [];
const eventIds: string[] = [];
let voidedEvent: string;
let disputedInvoice: string;

beforeAll(async () => {
  t = await createTestDatabase({ onQuery: (q) => statements.push(q) });
  const b = builders(t.db);
  const a = await b.contractWithProject();
  const other = await b.contractWithProject({ currency: "USD" });
  customerA = a.customer.id;
  customerB = other.customer.id;
  contractA = a.contract.id;
  legalEntityB = other.legalEntity.id;
  // 60 invoices: even ones to A (EUR), odd ones to B (USD); i % 4 lines each, i % 3 payments.
  for (let i = 0; i < INVOICES; i++) {
    const side = i % 2 === 0 ? a : other;
    const currency = side.contract.currency;
    const lines = i % 4;
    const total = `${lines * 100}.00`;
    const paid = i % 3 === 0 || lines === 0 ? "0.00" : `${Math.min(i % 3, lines) * 10}.00`;
    const inv = await b.invoice({
      customerId: side.customer.id,
      contractId: side.contract.id,
      legalEntityId: side.legalEntity.id,
      currency,
      subtotal: total,
      total,
      amountPaid: paid,
      status: i % 5 === 0 ? "DRAFT" : "POSTED",
      issuedOn: i % 5 === 0 ? null : "2026-09-01",
      dueOn: i % 5 === 0 ? null : i % 2 === 0 ? "2026-10-01" : "2099-01-01",
    });
    invoiceIds.push(inv.id);
    for (let n = 1; n <= lines; n++) {
      const event = await b.billingEvent({
        contractId: side.contract.id,
        customerId: side.customer.id,
        projectId: side.project.id,
        currency,
        status: "INVOICED",
      });
      eventIds.push(event.id);
      await b.invoiceLine({ invoiceId: inv.id, billingEventId: event.id, lineNo: n, currency });
    }
    for (let n = 0; n < (paid === "0.00" ? 0 : i % 3); n++) {
      await b.payment({ invoiceId: inv.id, amount: "10.00", currency });
    }
  }
  // A voided line whose event is billed again on a later invoice; an invoice with disputes.
  const event = await b.billingEvent({ contractId: contractA, customerId: customerA });
  voidedEvent = event.id;
  await b.invoiceLine({
    invoiceId: invoiceIds[0]!,
    billingEventId: event.id,
    lineNo: 9,
    voidedAt: new Date(),
  });
  await b.invoiceLine({ invoiceId: invoiceIds[2]!, billingEventId: event.id, lineNo: 9 });
  disputedInvoice = invoiceIds[4]!;
  await b.dispute({ invoiceId: disputedInvoice, status: "RESOLVED", resolution: "Credit note" });
  await b.dispute({ invoiceId: disputedInvoice, reason: "Rate too high" });

  server = createInvoiceSubgraph(t.db);
  running = await listen(server, { port: 0 });
});

afterAll(async () => {
  await running?.close();
  await t?.drop();
});

describe("schema", () => {
  it("describes every type, field and enum value (the IDE is the analysts' documentation)", () => {
    expect(undocumented(server.schema)).toEqual([]);
  });
});

describe("entities (_entities contract test)", () => {
  it("resolves invoices, lines, payments, disputes by key and extends others' types", async () => {
    const [line] =
      await t.sql`select id from invoice_line where invoice_id = ${invoiceIds[2]!} and line_no = 9`;
    const [pay] = await t.sql`select id from payment limit 1`;
    const [disp] = await t.sql`select id from dispute where status = 'OPEN'`;
    const result = await run(
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
        __typename
        ... on Invoice { id number status total { amount currency } balanceDue { amount } customer { id }
            legalEntity { id } openDispute { reason } disputes { totalCount } }
        ... on InvoiceLine { id lineNo invoice { id } billingEvent { id } }
        ... on Payment { id amount { amount } invoice { id } }
        ... on Dispute { id disputeStatus: status reason invoice { id } }
        ... on BillingEvent { id invoiceLine { id invoice { id } } }
        ... on Customer { id invoices(first: 1) { totalCount } }
        ... on Contract { id invoices(first: 1) { totalCount } }
      } }`,
      {
        reps: [
          { __typename: "Invoice", id: disputedInvoice },
          { __typename: "InvoiceLine", id: line!.id },
          { __typename: "Payment", id: pay!.id },
          { __typename: "Dispute", id: disp!.id },
          { __typename: "BillingEvent", id: voidedEvent },
          { __typename: "BillingEvent", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "Customer", id: customerB },
          { __typename: "Contract", id: contractA },
          { __typename: "Invoice", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "Invoice", id: "nope" },
          { __typename: "Customer", id: "nope" },
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    const [inv, ln, p, d, ev, evNone, cust, con, missing, malformed, badStub] =
      result.data?._entities ?? [];
    expect(inv).toMatchObject({
      __typename: "Invoice",
      id: disputedInvoice,
      customer: { id: customerA },
      openDispute: { reason: "Rate too high" },
      disputes: { totalCount: 2 },
    });
    expect(inv.total.currency).toBe("EUR");
    expect(typeof inv.total.amount).toBe("string");
    expect(ln).toMatchObject({
      lineNo: 9,
      invoice: { id: invoiceIds[2] },
      billingEvent: { id: voidedEvent },
    });
    expect(p).toMatchObject({ amount: { amount: "10.00" } });
    expect(d).toMatchObject({ disputeStatus: "OPEN", invoice: { id: disputedInvoice } });
    // The voided line on invoice 0 is history: the live line is the one on invoice 2.
    expect(ev.invoiceLine).toEqual({ id: line!.id, invoice: { id: invoiceIds[2] } });
    expect(evNone).toEqual({
      __typename: "BillingEvent",
      id: "00000000-0000-4000-8000-000000000000",
      invoiceLine: null,
    });
    expect(cust.invoices.totalCount).toBe(INVOICES / 2);
    expect(con.invoices.totalCount).toBe(INVOICES / 2);
    expect(missing).toBeNull();
    expect(malformed).toBeNull();
    expect(badStub).toBeNull();
  });

  it("provides an invoice's customer (name, parent's name), contract (number, billing model) and its lines' project names itself (@provides), and only the keys when not asked", async () => {
    const parent = await builders(t.db).customer({ name: "Provided Parent Holdings" });
    await t.sql`update customer set parent_id = ${parent.id} where id = ${customerA}`;
    const [cust] = await t.sql`select name from customer where id = ${customerA}`;
    const [con] = await t.sql`select number, billing_model from contract where id = ${contractA}`;
    const projects = await t.sql`
      select l.line_no, p.id::text as id, p.name from invoice_line l
        join billing_event e on e.id = l.billing_event_id left join project p on p.id = e.project_id
       where l.invoice_id = ${invoiceIds[2]!} order by l.line_no`;
    // Invoice 2 (customer A): two lines whose events have a project, and line 9 (none).
    expect(projects.map((row) => row.id === null)).toEqual([false, false, true]);
    const ask = (customer: string, contract: string, event: string) =>
      run(
        `query($id: ID!) { invoice(id: $id) { customer { ${customer} } contract { ${contract} }
          lines(first: 20) { nodes { lineNo billingEvent { ${event} } } } } }`,
        { id: invoiceIds[2] },
      );
    const reads = (table: string) =>
      statements.some((statement) => new RegExp(`from "${table}"`).test(statement));

    statements.length = 0;
    const provided = await ask(
      "id name parent { name }",
      "id number billingModel",
      "id project { id name }",
    );
    expect(provided.errors).toBeUndefined();
    expect(provided.data?.invoice.customer).toEqual({
      id: customerA,
      name: cust!.name,
      parent: { name: "Provided Parent Holdings" },
    });
    expect(provided.data?.invoice.contract).toEqual({
      id: contractA,
      number: con!.number,
      billingModel: con!.billing_model,
    });
    expect(
      provided.data?.invoice.lines.nodes.map(
        (line: { billingEvent: { project: unknown } }) => line.billingEvent.project,
      ),
    ).toEqual(projects.map((row) => (row.id === null ? null : { id: row.id, name: row.name })));
    expect(["customer", "contract", "billing_event", "project"].every(reads)).toBe(true);

    // The keys alone read none of those rows (the owners resolve whatever else is asked).
    statements.length = 0;
    const keys = await ask("id", "id", "id");
    expect(keys.errors).toBeUndefined();
    expect(keys.data?.invoice.customer).toEqual({ id: customerA });
    expect(keys.data?.invoice.contract).toEqual({ id: contractA });
    expect(["customer", "contract", "billing_event", "project"].some(reads)).toBe(false);
    await t.sql`update customer set parent_id = null where id = ${customerA}`;
  });

  it("computes balanceDue and overdue exactly", async () => {
    const result = await run(
      `query($id: ID!) { invoice(id: $id) { total { amount } amountPaid { amount } balanceDue { amount } overdue } }`,
      {
        id: invoiceIds[2],
      },
    );
    // invoice 2: 2 lines (200.00), paid 20.00, due 2026-10-01, POSTED.
    expect(result.data?.invoice).toEqual({
      total: { amount: "200.00" },
      amountPaid: { amount: "20.00" },
      balanceDue: { amount: "180.00" },
      overdue: true,
    });
  });
});

describe("connections", () => {
  const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $filter: InvoiceFilter, $orderBy: InvoiceOrder) {
    invoices(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

  it("pages forward and backward through every invoice", async () => {
    for (const orderBy of [
      undefined,
      { field: "TOTAL", direction: "DESC" },
      { field: "NUMBER", direction: "ASC" },
    ]) {
      const forward: string[] = [];
      let after: string | null = null;
      for (;;) {
        const result = await run(PAGE, { first: 8, after, orderBy });
        expect(result.errors).toBeUndefined();
        expect(result.data!.invoices.totalCount).toBe(INVOICES);
        forward.push(
          ...result.data!.invoices.edges.map((e: { node: { id: string } }) => e.node.id),
        );
        if (!result.data!.invoices.pageInfo.hasNextPage) break;
        after = result.data!.invoices.pageInfo.endCursor;
      }
      expect(forward).toHaveLength(INVOICES);
      expect(new Set(forward)).toEqual(new Set(invoiceIds));
      const backward: string[] = [];
      let before: string | null = null;
      for (;;) {
        const result = await run(PAGE, { last: 11, before, orderBy });
        backward.unshift(
          ...result.data!.invoices.edges.map((e: { node: { id: string } }) => e.node.id),
        );
        if (!result.data!.invoices.pageInfo.hasPreviousPage) break;
        before = result.data!.invoices.pageInfo.startCursor;
      }
      expect(backward).toEqual(forward);
    }
    const expected = await t.sql<
      { id: string }[]
    >`select id from invoice order by total desc, id desc`;
    const all = await run(PAGE, { first: 500, orderBy: { field: "TOTAL", direction: "DESC" } });
    expect(all.data!.invoices.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(
      expected.map((r) => r.id),
    );
  });

  it("pages every line, payment and dispute through the top-level lists", async () => {
    for (const [field, table] of [
      ["invoiceLines", "invoice_line"],
      ["payments", "payment"],
      ["disputes", "dispute"],
    ] as const) {
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const result = await run(
          `query($after: String) { ${field}(first: 13, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`,
          { after },
        );
        expect(result.errors, field).toBeUndefined();
        seen.push(...result.data![field].nodes.map((n: { id: string }) => n.id));
        if (!result.data![field].pageInfo.hasNextPage) break;
        after = result.data![field].pageInfo.endCursor;
      }
      const rows = await t.sql.unsafe(`select id from ${table}`);
      expect(seen.length, field).toBe(rows.length);
      expect(new Set(seen), field).toEqual(new Set(rows.map((r) => r.id as string)));
    }
  });

  it("pages an invoice's lines in line order", async () => {
    const result = await run(
      `query($id: ID!) { invoice(id: $id) { lines(first: 2) { totalCount nodes { lineNo } pageInfo { hasNextPage endCursor } } } }`,
      { id: invoiceIds[3] },
    );
    const lines = result.data?.invoice.lines;
    expect(lines.totalCount).toBe(3);
    expect(lines.nodes.map((n: { lineNo: number }) => n.lineNo)).toEqual([1, 2]);
    expect(lines.pageInfo.hasNextPage).toBe(true);
    const rest = await run(
      `query($id: ID!, $after: String) { invoice(id: $id) { lines(first: 2, after: $after) { nodes { lineNo } pageInfo { hasNextPage } } } }`,
      { id: invoiceIds[3], after: lines.pageInfo.endCursor },
    );
    expect(rest.data?.invoice.lines).toEqual({
      nodes: [{ lineNo: 3 }],
      pageInfo: { hasNextPage: false },
    });
  });

  it("filters by status, customer, currency, legal entity, dates and overdue", async () => {
    const count = async (filter: Record<string, unknown>) => {
      const result = await run(
        `query($filter: InvoiceFilter) { invoices(filter: $filter) { totalCount } }`,
        { filter },
      );
      expect(result.errors).toBeUndefined();
      return result.data?.invoices.totalCount as number;
    };
    expect(await count({ status: ["DRAFT"] })).toBe(12);
    expect(await count({ customerId: customerA })).toBe(30);
    expect(await count({ currency: "USD" })).toBe(30);
    expect(await count({ legalEntityId: legalEntityB })).toBe(30);
    expect(await count({ issuedFrom: "2026-09-01", issuedTo: "2026-09-01" })).toBe(48);
    expect(await count({ dueTo: "2026-12-31" })).toBe(24);
    const [row] = await t.sql`select count(*)::int as n from invoice
      where status not in ('DRAFT','PAID','VOID') and due_on < (now() at time zone 'UTC')::date and amount_paid < total`;
    expect(await count({ overdue: true })).toBe(row!.n);
    expect(await count({ overdue: false })).toBe(INVOICES - row!.n);
    expect(await count({ customerId: customerA, currency: "USD" })).toBe(0);
    const payments = await run(
      `query($le: ID!) { all: payments { totalCount } byEntity: payments(filter: { legalEntityId: $le }) { totalCount nodes { amount { currency } } } }`,
      { le: legalEntityB },
    );
    expect(payments.errors).toBeUndefined();
    expect(payments.data?.byEntity.totalCount).toBeGreaterThan(0);
    expect(payments.data?.byEntity.totalCount).toBeLessThan(payments.data?.all.totalCount);
    expect(
      new Set(
        payments.data?.byEntity.nodes.map(
          (n: { amount: { currency: string } }) => n.amount.currency,
        ),
      ),
    ).toEqual(new Set(["USD"]));
    const disputes = await run(
      `query($from: DateTime, $to: DateTime) { open: disputes(filter: { status: [OPEN], openedFrom: $from }) { totalCount } none: disputes(filter: { openedTo: $to }) { totalCount } }`,
      { from: "2000-01-01T00:00:00Z", to: "2000-01-01T00:00:00Z" },
    );
    expect(disputes.data).toEqual({ open: { totalCount: 1 }, none: { totalCount: 0 } });
  });
});

describe("bad input", () => {
  async function post(body: unknown) {
    const response = await fetch(running.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as OperationResult };
  }

  it("answers entity representations without a string id with BAD_USER_INPUT on those entities only", async () => {
    const { status, body } = await post({
      query: `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { id } } }`,
      variables: {
        reps: [
          { __typename: "Invoice" },
          { __typename: "Invoice", id: 42 },
          { __typename: "Invoice", id: invoiceIds[0] },
        ],
      },
    });
    expect(status).toBe(200);
    expect(body.errors?.map((e) => [e.extensions?.code, (e as { path?: unknown[] }).path])).toEqual(
      [
        ["BAD_USER_INPUT", ["_entities", 0]],
        ["BAD_USER_INPUT", ["_entities", 1]],
      ],
    );
    expect(body.data?._entities).toEqual([null, null, { id: invoiceIds[0] }]);
  });

  it("caps first: 100000 at 500 and says so, nested lists too", async () => {
    const result = await run(
      `{ invoices(first: 100000) { edges { node { lines(first: 9999) { totalCount } } } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.invoices.edges).toHaveLength(INVOICES);
    expect(String(result.extensions?.warnings)).toMatch(/Invoice: `first: 100000`.*capped at 500/);
    expect(String(result.extensions?.warnings)).toMatch(/first: 9999/);
  });

  it("answers malformed cursors, bad ids, unknown ids and bad filters with coded errors, never a 500", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        `query($a: String) { invoices(first: 2, after: $a) { totalCount } }`,
        { a: "%%%" },
        "BAD_USER_INPUT",
      ],
      [
        `query($a: String) { payments(last: 2, before: $a) { totalCount } }`,
        { a: "eyJ4IjoxfQ" },
        "BAD_USER_INPUT",
      ],
      [`{ invoice(id: "nope") { id } }`, {}, "BAD_USER_INPUT"],
      [`{ invoice(id: "00000000-0000-4000-8000-000000000000") { id } }`, {}, "NOT_FOUND"],
      [`{ payment(id: "00000000-0000-4000-8000-000000000000") { id } }`, {}, "NOT_FOUND"],
      [`{ dispute(id: "00000000-0000-4000-8000-000000000000") { id } }`, {}, "NOT_FOUND"],
      [`{ invoiceLine(id: "00000000-0000-4000-8000-000000000000") { id } }`, {}, "NOT_FOUND"],
      [`{ invoices(filter: { customerId: "x" }) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [`{ invoices(filter: { currency: "eur" }) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [
        `query($d: Date) { invoices(filter: { issuedFrom: $d }) { totalCount } }`,
        { d: "2026-02-30" },
        "BAD_USER_INPUT",
      ],
      [`{ invoices(first: 2, last: 2) { totalCount } }`, {}, "BAD_USER_INPUT"],
      [
        `{ invoices(first: 1) { nodes { lines(first: -1) { totalCount } } } }`,
        {},
        "BAD_USER_INPUT",
      ],
      [`{ invoices { nodes { nope } } }`, {}, "GRAPHQL_VALIDATION_FAILED"],
      [`{ invoices(first: "ten") { totalCount } }`, {}, "GRAPHQL_VALIDATION_FAILED"],
      [`{ invoices(`, {}, "GRAPHQL_PARSE_FAILED"],
    ];
    for (const [query, variables, code] of cases) {
      const { status, body } = await post({ query, variables });
      expect(status, query).toBeLessThan(500);
      expect(body.errors?.[0]?.extensions?.code, query).toBe(code);
    }
  });
});

describe("statement count", () => {
  it("a list of invoices with lines, payments, disputes and references does not grow with rows", async () => {
    const query = `query($n: Int) { invoices(first: $n) { totalCount nodes {
      id number total { amount currency } balanceDue { amount } overdue
      customer { id } contract { id } legalEntity { id }
      lines(first: 10) { totalCount nodes { lineNo amount { amount } billingEvent { id } invoice { id number } } }
      payments { totalCount nodes { amount { amount } invoice { id } } }
      disputes { nodes { status } }
      openDispute { reason }
    } } }`;
    const count = async (n: number) => {
      statements.length = 0;
      const result = await run(query, { n });
      expect(result.errors).toBeUndefined();
      expect(result.data?.invoices.nodes).toHaveLength(n);
      return statements.length;
    };
    const five = await count(5);
    const fifty = await count(50);
    expect(fifty).toBe(five);
    // 8 + one for `overdue` (the database's rule and clock, one batch per request).
    expect(fifty).toBeLessThanOrEqual(9);
    // The entity path the gateway takes: 50 BillingEvent references → one statement.
    statements.length = 0;
    const entities = await run(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on BillingEvent { invoiceLine { invoice { number } } } } }`,
      { reps: eventIds.slice(0, 50).map((id) => ({ __typename: "BillingEvent", id })) },
    );
    expect(entities.errors).toBeUndefined();
    expect(
      entities.data?._entities.every((e: { invoiceLine: unknown }) => e.invoiceLine !== null),
    ).toBe(true);
    expect(statements.length).toBe(2);
  });
});
