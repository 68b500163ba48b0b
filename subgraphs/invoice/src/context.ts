import type { SubgraphContext } from "@pshub/subgraph-kit";
import type { InvoiceLoaders } from "./loaders.ts";

/** What every invoice resolver receives as its context. */
export type InvoiceContext = SubgraphContext<InvoiceLoaders>;

/** The name codegen looks for (codegen.ts `contextType`). */
export type Context = InvoiceContext;
