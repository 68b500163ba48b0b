/**
 * Process entry of the customer subgraph: `tsx subgraphs/customer/src/main.ts` (PORT, default 4001;
 * DATABASE_URL, else embedded Postgres). GET /healthz answers 200 once the database answers.
 */
import { runSubgraphProcess } from "@pshub/subgraph-kit";
import { createCustomerSubgraph } from "./index.ts";

await runSubgraphProcess({ name: "customer", defaultPort: 4001, create: createCustomerSubgraph });
