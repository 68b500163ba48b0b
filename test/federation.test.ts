/**
 * The federated graph end to end: every subgraph and the gateway in this process over one
 * real Postgres test database. Federated queries across the subgraphs, paging through every
 * row, bad input (coded errors, never a 500), and the N+1 guard (SQL statements per request do
 * not grow with the number of rows).
 */
import { randomUUID } from "node:crypto";
import { invoice, syncException } from "@pshub/db/schema";
import { buildCustomerTree, type CustomerTree } from "@pshub/db/testing";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeepInvoicesDocument } from "./__generated__/operations.ts";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
let big: CustomerTree;
let small: CustomerTree;

beforeAll(async () => {
  stack = await startStack();
  big = await buildCustomerTree(stack.db, { invoices: 50, linesPerInvoice: 2, name: "Contoso UK" });
  small = await buildCustomerTree(stack.db, { invoices: 10, linesPerInvoice: 2, name: "Fabrikam" });
});

afterAll(async () => {
  await stack?.stop();
});

describe("federated queries through the gateway", () => {
  it("walks a customer tree across the subgraphs in one request", async () => {
    const { status, json } = await stack.query(
      /* GraphQL */ `
        query Tree($id: ID!) {
          customer(id: $id) {
            name
            parent { name }
            contracts(first: 5) {
              nodes {
                billingModel
                projects(first: 5) {
                  nodes {
                    name
                    timeEntries(first: 3) { nodes { hours status } }
                    billingEvents(first: 3) {
                      nodes { amount { amount currency } invoiceLine { invoice { status payments(first: 5) { nodes { amount { amount } } } } } }
                    }
                  }
                }
              }
            }
          }
        }
      `,
      { id: small.customerId },
    );
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    const customer = json.data.customer;
    expect(customer.name).toBe("Fabrikam");
    expect(customer.parent.name).toBe("Fabrikam Group");
    const project = customer.contracts.nodes[0].projects.nodes[0];
    expect(project.name).toBe("Data platform migration");
    expect(project.timeEntries.nodes).toHaveLength(3);
    expect(project.timeEntries.nodes[0]).toEqual({ hours: "8.00", status: "BILLED" });
    const event = project.billingEvents.nodes[0];
    expect(event.amount).toEqual({ amount: "1200.00", currency: "GBP" });
    expect(event.invoiceLine.invoice.status).toBe("PARTIALLY_PAID");
    expect(event.invoiceLine.invoice.payments.nodes).toEqual([{ amount: { amount: "100.00" } }]);
  });

  it("lists invoices with customer, parent, contract and each line's billing event's project", async () => {
    const { status, json } = await stack.query(
      /* GraphQL */ `
        {
          invoices(first: 100) {
            totalCount
            nodes {
              number
              customer { name parent { name } }
              contract { billingModel }
              lines(first: 10) { nodes { billingEvent { project { name } } } }
            }
          }
        }
      `,
    );
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    expect(json.data.invoices.totalCount).toBe(60);
    expect(json.data.invoices.nodes).toHaveLength(60);
    for (const node of json.data.invoices.nodes) {
      expect(["Contoso UK", "Fabrikam"]).toContain(node.customer.name);
      expect(node.customer.parent.name).toBe(`${node.customer.name} Group`);
      expect(node.contract.billingModel).toBe("TIME_AND_MATERIALS");
      expect(node.lines.nodes).toHaveLength(2);
      expect(node.lines.nodes[0].billingEvent.project.name).toBe("Data platform migration");
    }
  });

  it("resolves an exception's entity (ops) with the fields of its owner (billing, invoice)", async () => {
    const eventId = small.billingEventIds[0]!;
    const invoiceId = small.invoiceIds[0]!;
    await stack.db.insert(syncException).values(
      [
        ["billing_event", eventId],
        ["invoice", invoiceId],
      ].map(([entityType, entityId]) => ({
        owner: "FINANCE" as const,
        code: "WRITE_BACK_REJECTED",
        message: "The ERP refused the record",
        remediation: "Fix it in the ERP and retry",
        dueAt: new Date("2026-12-01T00:00:00Z"),
        entityType,
        entityId,
      })),
    );
    const { json } = await stack.query(
      /* GraphQL */ `
        query($id: ID!) {
          syncExceptions(filter: { entityId: $id }) {
            nodes { entity { __typename ... on BillingEvent { amount { amount currency } project { name } } } }
          }
          invoiceExceptions: syncExceptions(filter: { entityType: "invoice" }) {
            nodes { entity { ... on Invoice { id customer { name } } } }
          }
        }
      `,
      { id: eventId },
    );
    expect(json.errors).toBeUndefined();
    expect(json.data.syncExceptions.nodes).toEqual([
      {
        entity: {
          __typename: "BillingEvent",
          amount: { amount: "1200.00", currency: "GBP" },
          project: { name: "Data platform migration" },
        },
      },
    ]);
    expect(json.data.invoiceExceptions.nodes).toEqual([
      { entity: { id: invoiceId, customer: { name: "Fabrikam" } } },
    ]);
  });

  it("pages through every invoice with first/after: each row once, none missed", async () => {
    const [row] = await stack.db.select({ n: count() }).from(invoice);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { json } = await stack.query(
        "query Page($after: String) { invoices(first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
        { after },
      );
      expect(json.errors).toBeUndefined();
      const page = json.data.invoices;
      expect(page.totalCount).toBe(row?.n);
      seen.push(...page.edges.map((edge: { node: { id: string } }) => edge.node.id));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
      expect(pages).toBeLessThan(20);
    }
    expect(seen).toHaveLength(row?.n ?? -1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set([...big.invoiceIds, ...small.invoiceIds]));
    expect(pages).toBe(Math.ceil(60 / 7));
  });
});

/** The spec's media type: request errors are 400 (for application/json they are 200; http.ts). */
const STRICT = { accept: "application/graphql-response+json" };

describe("bad input: a clear GraphQL error with a code, never a 500", () => {
  it("rejects a syntax error", async () => {
    const { status, json } = await stack.query(
      "{ invoices(first: 5) { nodes { number }",
      {},
      STRICT,
    );
    expect(status).toBe(400);
    expect(json.errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
  });

  it("rejects an unknown field, naming it", async () => {
    const { status, json } = await stack.query(
      "{ invoices(first: 5) { nodes { numbr } } }",
      {},
      STRICT,
    );
    expect(status).toBe(400);
    expect(json.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(json.errors[0].message).toContain("numbr");
  });

  it("rejects a wrong argument type, inline and as a variable", async () => {
    const inline = await stack.query('{ invoices(first: "ten") { totalCount } }', {}, STRICT);
    expect(inline.status).toBe(400);
    expect(inline.json.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const variable = await stack.query(
      "query($n: Int!) { invoices(first: $n) { totalCount } }",
      { n: "ten" },
      STRICT,
    );
    expect(variable.status).toBe(400);
    expect(variable.json.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("caps first: 100000 and says so in extensions.warnings", async () => {
    const { status, json } = await stack.query(
      "{ invoices(first: 100000) { totalCount nodes { id } } }",
    );
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    expect(json.data.invoices.nodes).toHaveLength(60);
    expect(json.extensions?.warnings?.join(" ")).toMatch(/capped at 500/);
  });

  it("rejects a malformed cursor with BAD_USER_INPUT", async () => {
    const { status, json } = await stack.query(
      '{ invoices(first: 5, after: "not-a-cursor") { totalCount } }',
    );
    expect(status).not.toBe(500);
    expect(json.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("answers a non-existent id with NOT_FOUND and a malformed id with BAD_USER_INPUT", async () => {
    const missing = await stack.query("query($id: ID!) { invoice(id: $id) { number } }", {
      id: randomUUID(),
    });
    expect(missing.status).toBe(200);
    expect(missing.json.errors[0].extensions.code).toBe("NOT_FOUND");
    const malformed = await stack.query('{ customer(id: "42") { name } }');
    expect(malformed.status).toBe(200);
    expect(malformed.json.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("rejects nested pages whose sizes multiply past the row limit with QUERY_TOO_COMPLEX", async () => {
    const nested = "{ invoices(first: 500) { nodes { lines(first: 500) { nodes { id } } } } }";
    const inline = await stack.query(nested, {}, STRICT);
    expect(inline.status).toBe(400);
    expect(inline.json.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
    expect(inline.json.errors[0].extensions.actual).toBeGreaterThan(250_000);
    const viaVariables = await stack.query(
      "query($a: Int!, $b: Int!) { invoices(first: $a) { nodes { lines(first: $b) { nodes { id } } } } }",
      { a: 1000, b: 1000 },
      STRICT,
    );
    expect(viaVariables.status).toBe(400);
    expect(viaVariables.json.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
    // The same shape with BI-sized pages is fine.
    const small = await stack.query(
      "query($a: Int!, $b: Int!) { invoices(first: $a) { nodes { lines(first: $b) { nodes { id } } } } }",
      { a: 50, b: 20 },
    );
    expect(small.status).toBe(200);
    expect(small.json.errors).toBeUndefined();
  });

  it("rejects a query deeper than the limit with QUERY_TOO_DEEP", async () => {
    const deep = `{ customer(id: "${big.customerId}") { ${"parent { ".repeat(30)}name${" }".repeat(30)} } }`;
    const { status, json } = await stack.query(deep, {}, STRICT);
    expect(status).toBe(400);
    expect(json.errors[0].extensions.code).toBe("QUERY_TOO_DEEP");
  });
});

describe("no N+1", () => {
  it("runs the same number of SQL statements for 10 and for 50 invoices", async () => {
    const statementsFor = async (first: number) => {
      stack.resetSqlCount();
      const { data, errors } = await stack.run(DeepInvoicesDocument, { first });
      expect(errors).toBeUndefined();
      expect(data?.invoices.nodes).toHaveLength(first);
      expect(
        data?.invoices.nodes[first - 1]?.lines.nodes[0]?.billingEvent.project?.name,
      ).toBeTruthy();
      return stack.sqlCount();
    };
    const ten = await statementsFor(10);
    const fifty = await statementsFor(50);
    expect(ten).toBeGreaterThan(0);
    expect(fifty).toBe(ten);
    // Bounded by depth: one statement per level and subgraph hop, a dozen or so, not hundreds.
    expect(fifty).toBeLessThan(25);
  });
});
