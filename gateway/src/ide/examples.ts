/**
 * The operations preloaded as tabs in the IDE. They are plain text: mutations and
 * subscriptions work once the lifecycle and subscription parts of the graph exist.
 */
export interface ExampleTab {
  title: string;
  query: string;
  variables?: string;
  headers?: string;
}

/**
 * The headers editor's starting text. Keys starting with `#` are comments: the IDE does not send
 * them (client.ts).
 */
const headers = JSON.stringify(
  {
    "#": 'Who you are. `npm start` prints a demo token per role (analyst, sales, delivery, finance, integration, admin): replace the line below with "Authorization": "Bearer <token>" to see what that role sees. With a token or API key ("x-api-key") the x-pshub-principal header is ignored; it is trusted only in development mode.',
    "x-pshub-principal": "analyst@example.com",
  },
  null,
  2,
);

export const EXAMPLE_TABS: ExampleTab[] = [
  {
    title: "BI: open invoices",
    query: `# Open invoices with their customer, contract, lines and payments: one federated query.
# Press the run button (or Ctrl-Enter). The Docs button (top left) browses the whole graph.
query OpenInvoices($first: Int = 20) {
  invoices(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        number
        status
        total { amount currency }
        dueOn
        customer { name parent { name } }
        contract { number billingModel }
        lines(first: 50) {
          edges { node { description amount { amount currency } billingEvent { project { name } } } }
        }
        payments(first: 10) { edges { node { amount { amount currency } receivedOn } } }
      }
    }
  }
}
`,
    variables: `{ "first": 20 }`,
    headers,
  },
  {
    title: "Customer tree",
    query: `# A customer, its contracts, their projects, time and what was billed.
query CustomerTree($id: ID!) {
  customer(id: $id) {
    name
    contracts(first: 10) {
      edges {
        node {
          number
          billingModel
          projects(first: 10) {
            edges {
              node {
                name
                status
                timeEntries(first: 5) { edges { node { workDate hours status } } }
                billingEvents(first: 5) {
                  edges { node { amount { amount } status invoiceLine { invoice { number status } } } }
                }
              }
            }
          }
        }
      }
    }
  }
}
`,
    variables: `{ "id": "00000000-0000-0000-0000-000000000000" }`,
    headers,
  },
  {
    title: "Lifecycle: issue an invoice",
    query: `# A lifecycle transition. A wrong transition answers with extensions.code INVALID_TRANSITION
# and changes nothing; the same idempotency key replays the first answer.
mutation IssueInvoice($id: ID!, $key: String) {
  issueInvoice(invoiceId: $id, idempotencyKey: $key) {
    id
    number
    status
  }
}
`,
    variables: `{ "id": "00000000-0000-0000-0000-000000000000", "key": "issue-1" }`,
    headers,
  },
  {
    title: "Subscription: invoice status",
    query: `# Streams every invoice status change over graphql-ws (same URL as /graphql, ws://).
# Resume after a disconnect with afterEventId: the last eventId you saw.
subscription InvoiceStatus($customerId: ID) {
  invoiceStatusChanged(customerId: $customerId) {
    eventId
    occurredAt
    previousStatus
    status
    invoice { number total { amount currency } customer { name } }
  }
}
`,
    variables: `{ "customerId": null }`,
    headers,
  },
];
