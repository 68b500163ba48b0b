import type { SubgraphContext } from "@pshub/subgraph-kit";
import type { BillingLoaders } from "./loaders.ts";

/** What every billing resolver receives as its context. */
export type BillingContext = SubgraphContext<BillingLoaders>;

/** The name codegen looks for (codegen.ts `contextType`). */
export type Context = BillingContext;
