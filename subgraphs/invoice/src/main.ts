/**
 * Process entry of the invoice subgraph: `tsx subgraphs/invoice/src/main.ts`. PORT defaults to its
 * entry in @pshub/db SERVICE_PORTS; DATABASE_URL, else embedded Postgres. GET /healthz answers
 * 200 once the database answers.
 */
import { runSubgraphProcess } from "@pshub/subgraph-kit";
import { createInvoiceSubgraph } from "./index.ts";

await runSubgraphProcess({ name: "invoice", create: createInvoiceSubgraph });
