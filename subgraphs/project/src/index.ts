/**
 * @pshub/subgraph-project — Project, Milestone, Resource, Assignment, TimeEntry and Expense
 * as an Apollo Federation v2 subgraph.
 */
import type { Db } from "@pshub/db";
import {
  createSubgraphServer,
  loadTypeDefs,
  type SubgraphOptions,
  type SubgraphServer,
} from "@pshub/subgraph-kit";
import { createProjectLoaders, type ProjectLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers/index.ts";

/** Every sdl/*.graphql of this subgraph (one file per type), concatenated. */
export const typeDefs = loadTypeDefs(new URL("..", import.meta.url));

export function createProjectSubgraph(
  db: Db,
  options: Pick<SubgraphOptions<ProjectLoaders>, "logger" | "metrics" | "plugins"> = {},
): SubgraphServer<ProjectLoaders> {
  return createSubgraphServer({
    name: "project",
    typeDefs,
    resolvers,
    db,
    createLoaders: createProjectLoaders,
    ...options,
  });
}

export { resolvers };
