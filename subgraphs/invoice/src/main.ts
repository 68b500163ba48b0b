/**
 * Process entry of the invoice subgraph: `tsx subgraphs/invoice/src/main.ts` (PORT, default 4004;
 * DATABASE_URL, else embedded Postgres). GET /healthz answers 200 once the database answers.
 */
import { runSubgraphProcess } from "@pshub/subgraph-kit";
import { createInvoiceSubgraph } from "./index.ts";

await runSubgraphProcess({ name: "invoice", defaultPort: 4004, create: createInvoiceSubgraph });
