import type { SubgraphContext } from "@pshub/subgraph-kit";
import type { OpsLoaders } from "./loaders.ts";

/** What every ops resolver receives as its context. */
export type OpsContext = SubgraphContext<OpsLoaders>;

/** The name codegen looks for (codegen.ts `contextType`). */
export type Context = OpsContext;
