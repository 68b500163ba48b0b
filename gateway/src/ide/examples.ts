/**
 * The operations preloaded as tabs in the IDE. Each runs as is on a fresh `npm start`: the ids
 * are those of the deterministic demo firm (db/src/seed/demo.ts, default seed and date), and each
 * operation is named after its tab's title (GraphiQL labels a tab with its operation's name).
 * test/ide-tabs.test.ts runs every tab in Chromium against a freshly seeded demo.
 */
import { PRINCIPAL_ID_HEADER } from "@pshub/subgraph-kit";

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
    "#":
      'Who you are. `npm start` prints a demo token per role (analyst, sales, delivery, finance, integration, admin): replace the line below with "Authorization": "Bearer <token>" to see what that role sees. With a token or API key ("x-api-key") the ' +
      PRINCIPAL_ID_HEADER +
      " header is ignored; it is trusted only in development mode.",
    [PRINCIPAL_ID_HEADER]: "analyst@example.com",
  },
  null,
  2,
);

/** Demo ids (the demo seed is deterministic): a customer group with subsidiaries, a draft invoice. */
export const DEMO_IDS = {
  /** Bluewater Energy Group, parent of two customers. */
  customerGroup: "8ea0baa6-0b0f-408d-930c-0adf176e54e5",
  /** A DRAFT invoice of Crestline Telecom Operations GmbH (no number until issued). */
  draftInvoice: "69389ab3-b042-4495-ad32-cb69502e7f50",
} as const;

export const EXAMPLE_TABS: ExampleTab[] = [
  {
    title: "Open invoices",
    query: `# Invoices with a balance to collect (issued, posted, partly paid or disputed), the soonest
# due first, with their customer, contract, lines and payments: one federated query.
# Press the run button (or Ctrl-Enter). Change the statuses, or add e.g. overdue: true or
# customerId to the filter; the Docs button (top left) browses the whole graph.
query OpenInvoices($first: Int = 20) {
  invoices(
    first: $first
    filter: { status: [ISSUED, POSTED, PARTIALLY_PAID, DISPUTED] }
    orderBy: { field: DUE_ON, direction: ASC }
  ) {
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
    query: `# A customer group: its subsidiaries, their contracts, projects, time and what was billed.
# The id is the demo's Bluewater Energy Group; paste any customer's id (e.g. from a
# customer { id } in another tab) to see its tree.
query CustomerTree($id: ID!) {
  customer(id: $id) {
    name
    children(first: 10) {
      totalCount
      edges {
        node {
          name
          contracts(first: 5) {
            edges {
              node {
                number
                billingModel
                projects(first: 5) {
                  edges {
                    node {
                      name
                      status
                      timeEntries(first: 3) { edges { node { workDate hours status } } }
                      billingEvents(first: 3) {
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
    }
  }
}
`,
    variables: JSON.stringify({ id: DEMO_IDS.customerGroup }),
    headers,
  },
  {
    title: "Issue an invoice",
    query: `# A lifecycle transition: issues the demo's draft invoice (it gets its number and due date).
# Run it twice: the same idempotency key replays the first answer. With another key, issuing an
# ISSUED invoice answers extensions.code INVALID_TRANSITION and changes nothing.
mutation IssueAnInvoice($id: ID!, $key: String) {
  issueInvoice(invoiceId: $id, idempotencyKey: $key) {
    id
    number
    status
    dueOn
    total { amount currency }
  }
}
`,
    variables: JSON.stringify({ id: DEMO_IDS.draftInvoice, key: "ide-issue-1" }),
    headers,
  },
  {
    title: "Invoice status changes",
    query: `# Streams every invoice status change over graphql-ws (same URL as /graphql, ws://): run it,
# then run "Issue an invoice" in another tab. Narrow it with a customerId; resume after a
# disconnect with afterEventId (the last eventId you saw).
subscription InvoiceStatusChanges($customerId: ID) {
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
  {
    title: "Time entry approvals",
    query: `# Streams time-entry approvals as they land, whether made in the PSA (Certinia, synced by the
# CDC: on \`npm start\` the sandbox PSA approves some every few seconds) or by approveTimeEntry.
# Narrow it with a projectId, or pick another status (REJECTED, BILLED); expenseStatusChanged
# and milestoneStatusChanged work the same way.
subscription TimeEntryApprovals($projectId: ID) {
  timeEntryStatusChanged(projectId: $projectId, status: APPROVED) {
    eventId
    occurredAt
    previousStatus
    status
    timeEntry { id workDate hours approvedBy resource { name } project { name } }
  }
}
`,
    variables: `{ "projectId": null }`,
    headers,
  },
];
