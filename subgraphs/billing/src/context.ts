import type { SubgraphContext } from "@pshub/subgraph-kit";
import type { BillingLoaders } from "./loaders.ts";

/** What every billing resolver receives as its context. */
export type BillingContext = SubgraphContext<BillingLoaders>;

/** A Money value: a decimal string and its currency. */
export function money(amount: string, currency: string) {
  return { amount, currency };
}

/** The name codegen looks for (codegen.ts `contextType`). */
export type Context = BillingContext;
