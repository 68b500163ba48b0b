/**
 * @pshub/subgraph-customer — Customer (with its hierarchy), Contact, Opportunity, Contract and
 * LegalEntity as an Apollo Federation v2 subgraph.
 */
import type { Db } from "@pshub/db";
import {
  createSubgraphServer,
  loadTypeDefs,
  type SubgraphOptions,
  type SubgraphServer,
} from "@pshub/subgraph-kit";
import { type CustomerLoaders, createCustomerLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers/index.ts";

/** Every sdl/*.graphql of this subgraph (one file per type), concatenated. */
export const typeDefs = loadTypeDefs(new URL("..", import.meta.url));

export function createCustomerSubgraph(
  db: Db,
  options: Pick<SubgraphOptions<CustomerLoaders>, "logger" | "metrics" | "plugins"> = {},
): SubgraphServer<CustomerLoaders> {
  return createSubgraphServer({
    name: "customer",
    typeDefs,
    resolvers,
    db,
    createLoaders: createCustomerLoaders,
    ...options,
  });
}

export { resolvers };
