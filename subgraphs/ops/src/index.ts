/**
 * @pshub/subgraph-ops — the hub's own operations, as an Apollo Federation v2 subgraph: the sync
 * exception queue (query, resolve, live `syncExceptionRaised`), lineage, and read-only lists of the
 * hub's own tables (domain events, audit log, source links, sync cursors, inbox, outbound commands).
 */
import type { Db } from "@pshub/db";
import {
  createSubgraphServer,
  loadTypeDefs,
  type SubgraphOptions,
  type SubgraphServer,
} from "@pshub/subgraph-kit";
import { createOpsLoaders, type OpsLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers/index.ts";

export type { OpsContext } from "./context.ts";
export type { OpsLoaders } from "./loaders.ts";

/** Every sdl/*.graphql of this subgraph (one file per type), as one document. */
export const opsTypeDefs = () => loadTypeDefs(new URL("..", import.meta.url));

/** The ops subgraph over `db`; serve it with the kit's `listen(server, { port })`. */
export function createOpsSubgraph(
  db: Db,
  options: Pick<SubgraphOptions<OpsLoaders>, "logger" | "metrics" | "plugins"> = {},
): SubgraphServer<OpsLoaders> {
  return createSubgraphServer({
    name: "ops",
    typeDefs: opsTypeDefs(),
    resolvers,
    db,
    createLoaders: createOpsLoaders,
    ...options,
  });
}
export { resolvers };
