/**
 * @pshub/subgraph-invoice — invoices, invoice lines, payments and disputes, as an Apollo
 * Federation v2 subgraph.
 */
import type { Db } from "@pshub/db";
import {
  createSubgraphServer,
  loadTypeDefs,
  type SubgraphOptions,
  type SubgraphServer,
} from "@pshub/subgraph-kit";
import { createInvoiceLoaders, type InvoiceLoaders } from "./loaders.ts";
import { resolvers } from "./resolvers/index.ts";

export type { InvoiceContext } from "./context.ts";
export { InvoiceLoaders } from "./loaders.ts";

/** Every sdl/*.graphql of this subgraph (one file per type), as one document. */
export const invoiceTypeDefs = () => loadTypeDefs(new URL("..", import.meta.url));

/** The invoice subgraph over `db`; serve it with the kit's `listen(server, { port })`. */
export function createInvoiceSubgraph(
  db: Db,
  options: Pick<SubgraphOptions<InvoiceLoaders>, "logger" | "metrics" | "plugins"> = {},
): SubgraphServer<InvoiceLoaders> {
  return createSubgraphServer({
    name: "invoice",
    typeDefs: invoiceTypeDefs(),
    resolvers,
    db,
    createLoaders: createInvoiceLoaders,
    ...options,
  });
}
export { resolvers };
