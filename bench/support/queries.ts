/** The gateway bench's query mix (also valid against the floor's merged schema). */

export interface BenchOperation {
  name: string;
  description: string;
  query: string;
  variables: Record<string, unknown>;
  /** A sanity check on the answer, so that a bench of empty results cannot pass. */
  check(data: unknown): boolean;
}

const INVOICE_LIST = /* GraphQL */ `
  query InvoiceList($first: Int!, $filter: InvoiceFilter, $orderBy: InvoiceOrder) {
    invoices(first: $first, filter: $filter, orderBy: $orderBy) {
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

const CUSTOMER_TREE = /* GraphQL */ `
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

const INVOICE_BY_ID = /* GraphQL */ `
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

/** The sort orders a client's invoice list can use (with the customer filter: its own list). */
const INVOICE_ORDERS = ["CREATED_AT", "ISSUED_ON", "DUE_ON", "NUMBER", "TOTAL"].flatMap((field) =>
  ["ASC", "DESC"].map((direction) => ({ field, direction })),
);

interface ListFilter {
  customerId: string;
  orderBy: { field: string; direction: string };
}

function benchQueries(ids: {
  customerId: string;
  invoiceId: string;
  list: ListFilter;
}): BenchOperation[] {
  return [
    {
      name: "InvoiceList",
      description:
        "20 invoices of one customer in one sort order, with customer (+parent), contract, lines and payments",
      query: INVOICE_LIST,
      variables: {
        first: 20,
        filter: { customerId: ids.list.customerId },
        orderBy: ids.list.orderBy,
      },
      check: (data) =>
        (data as Any)?.invoices?.nodes?.length === 20 &&
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

/**
 * Client `client`'s own request sequence: its own invoice list (customer `client mod customers`,
 * sort order `client div customers`), then over every customer in turn that customer's tree and
 * one of its invoices, rotated so that client k starts k requests in. Identical requests in flight
 * at once then happen only by chance, as between real users, not by construction.
 */
export function clientSequence(
  client: number,
  trees: { customerId: string; invoiceIds: string[] }[],
): BenchOperation[] {
  const mine = trees[client % trees.length];
  const orderBy = INVOICE_ORDERS[Math.floor(client / trees.length) % INVOICE_ORDERS.length];
  if (!mine || !orderBy) throw new Error("no customers seeded");
  const list: ListFilter = { customerId: mine.customerId, orderBy };
  const sequence = trees.flatMap((tree, i) =>
    benchQueries({
      customerId: tree.customerId,
      invoiceId: tree.invoiceIds[(i + client) % tree.invoiceIds.length] ?? "",
      list,
    }),
  );
  const offset = client % sequence.length;
  return [...sequence.slice(offset), ...sequence.slice(0, offset)];
}
