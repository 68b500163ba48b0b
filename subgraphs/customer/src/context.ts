import type { SubgraphContext } from "@pshub/subgraph-kit";
import type { CustomerLoaders } from "./loaders.ts";

/** The resolver context of the customer subgraph (read by codegen.ts). */
export type Context = SubgraphContext<CustomerLoaders>;
