/**
 * Process entry of the customer subgraph: `tsx subgraphs/customer/src/main.ts`. PORT defaults to its
 * entry in @pshub/db SERVICE_PORTS; DATABASE_URL, else embedded Postgres. GET /healthz answers
 * 200 once the database answers.
 */
import { runSubgraphProcess } from "@pshub/subgraph-kit";
import { createCustomerSubgraph } from "./index.ts";

await runSubgraphProcess({ name: "customer", create: createCustomerSubgraph });
