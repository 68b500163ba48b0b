/**
 * Process entry of the billing subgraph: `tsx subgraphs/billing/src/main.ts`. PORT defaults to its
 * entry in @pshub/db SERVICE_PORTS; DATABASE_URL, else embedded Postgres. GET /healthz answers
 * 200 once the database answers.
 */
import { runSubgraphProcess } from "@pshub/subgraph-kit";
import { createBillingSubgraph } from "./index.ts";

await runSubgraphProcess({ name: "billing", create: createBillingSubgraph });
