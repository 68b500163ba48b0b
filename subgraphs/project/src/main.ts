/**
 * Process entry of the project subgraph: `tsx subgraphs/project/src/main.ts`. PORT defaults to its
 * entry in @pshub/db SERVICE_PORTS; DATABASE_URL, else embedded Postgres. GET /healthz answers
 * 200 once the database answers.
 */
import { runSubgraphProcess } from "@pshub/subgraph-kit";
import { createProjectSubgraph } from "./index.ts";

await runSubgraphProcess({ name: "project", create: createProjectSubgraph });
