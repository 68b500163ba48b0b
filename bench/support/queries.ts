/** The gateway bench's query mix (also valid against the floor's merged schema). */

export interface BenchOperation {
  name: string;
  description: string;
  query: string;
  variables: Record<string, unknown>;
  /** A sanity check on the answer, so that a bench of empty results cannot pass. */
  check(data: unknown): boolean;
}

export const INVOICE_LIST = /* GraphQL */ `
  query InvoiceList($first: Int!) {
    invoices(first: $first) {
      totalCount
      nodes {
        id
        number
        status
        total { amount currency }
        amountPaid { amount }
        dueOn
        customer { id name parent { name } }
        contract { id number billingModel }
        lines(first: 20) { nodes { lineNo description amount { amount } } }
        payments(first: 10) { nodes { amount { amount } receivedOn } }
      }
    }
  }
`;

export const CUSTOMER_TREE = /* GraphQL */ `
  query CustomerTree($id: ID!) {
    customer(id: $id) {
      name
      parent { name }
      contracts(first: 10) {
        nodes {
          number
          billingModel
          projects(first: 10) {
            nodes {
              name
              status
              timeEntries(first: 20) { nodes { workDate hours status } }
              billingEvents(first: 20) {
                nodes { amount { amount } status invoiceLine { invoice { number status payments(first: 5) { nodes { amount { amount } } } } } }
              }
            }
          }
        }
      }
      invoices(first: 10) { totalCount nodes { number total { amount } } }
    }
  }
`;

export const INVOICE_BY_ID = /* GraphQL */ `
  query InvoiceById($id: ID!) {
    invoice(id: $id) {
      number
      status
      total { amount currency }
      customer { name }
      contract { billingModel }
      lines(first: 20) { nodes { description amount { amount } billingEvent { project { name } } } }
    }
  }
`;

// biome-ignore lint/suspicious/noExplicitAny: walking an untyped GraphQL answer
type Any = any;

export function benchQueries(ids: { customerId: string; invoiceId: string }): BenchOperation[] {
  return [
    {
      name: "InvoiceList",
      description: "50 invoices with customer (+parent), contract, lines and payments",
      query: INVOICE_LIST,
      variables: { first: 50 },
      check: (data) =>
        (data as Any)?.invoices?.nodes?.length === 50 &&
        (data as Any).invoices.nodes[0].lines.nodes.length > 0,
    },
    {
      name: "CustomerTree",
      description:
        "a customer tree (contracts → projects → time entries and billing events → invoice lines → invoices → payments)",
      query: CUSTOMER_TREE,
      variables: { id: ids.customerId },
      check: (data) => (data as Any)?.customer?.contracts?.nodes?.[0]?.projects?.nodes?.length > 0,
    },
    {
      name: "InvoiceById",
      description: "one invoice by id with lines",
      query: INVOICE_BY_ID,
      variables: { id: ids.invoiceId },
      check: (data) => typeof (data as Any)?.invoice?.number === "string",
    },
  ];
}
