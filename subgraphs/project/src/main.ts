/**
 * Process entry of the project subgraph: `tsx subgraphs/project/src/main.ts` (PORT, default 4002;
 * DATABASE_URL, else embedded Postgres). GET /healthz answers 200 once the database answers.
 */
import { runSubgraphProcess } from "@pshub/subgraph-kit";
import { createProjectSubgraph } from "./index.ts";

await runSubgraphProcess({ name: "project", defaultPort: 4002, create: createProjectSubgraph });
