import type { SubgraphContext } from "@pshub/subgraph-kit";
import type { ProjectLoaders } from "./loaders.ts";

/** The resolver context of the project subgraph (read by codegen.ts). */
export type Context = SubgraphContext<ProjectLoaders>;
