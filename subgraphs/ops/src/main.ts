/**
 * Process entry of the ops subgraph: `tsx subgraphs/ops/src/main.ts`. PORT defaults to its
 * entry in @pshub/db SERVICE_PORTS; DATABASE_URL, else embedded Postgres. GET /healthz answers
 * 200 once the database answers.
 */
import { runSubgraphProcess } from "@pshub/subgraph-kit";
import { createOpsSubgraph } from "./index.ts";

await runSubgraphProcess({ name: "ops", create: createOpsSubgraph });
