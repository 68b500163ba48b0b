/**
 * @pshub/subgraph-billing — billing events, billing rules per contract and unbilled totals, as an
 * Apollo Federation v2 subgraph. (The exception queue, lineage and the hub's own tables are the
 * ops subgraph's.)
 */
import type { Db } from "@pshub/db";
import {
  createSubgraphServer,
  loadTypeDefs,
  type SubgraphOptions,
  type SubgraphServer,
} from "@pshub/subgraph-kit";
import { type BillingLoaders, createBillingLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers/index.ts";

export type { BillingContext } from "./context.ts";
export { BillingLoaders } from "./loaders.ts";

/** Every sdl/*.graphql of this subgraph (one file per type), as one document. */
export const billingTypeDefs = () => loadTypeDefs(new URL("..", import.meta.url));

/** The billing subgraph over `db`; serve it with the kit's `listen(server, { port })`. */
export function createBillingSubgraph(
  db: Db,
  options: Pick<SubgraphOptions<BillingLoaders>, "logger" | "metrics" | "plugins"> = {},
): SubgraphServer<BillingLoaders> {
  return createSubgraphServer({
    name: "billing",
    typeDefs: billingTypeDefs(),
    resolvers,
    db,
    createLoaders: createBillingLoaders,
    ...options,
  });
}
export { resolvers };
