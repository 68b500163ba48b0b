/**
 * Every subgraph of the graph in this test process, each on its own port (0: the OS picks), over
 * one database. The one place tests list the subgraphs: a new subgraph is added here and in
 * gateway/src/subgraphs.ts, nowhere else.
 *
 *   const subgraphs = await startSubgraphs(db);
 *   createGateway({ subgraphUrls: subgraphs.urls });
 *   await subgraphs.close();
 */
import type { Db } from "@pshub/db";
import { SUBGRAPHS, type SubgraphName } from "@pshub/gateway";
import { createBillingSubgraph } from "@pshub/subgraph-billing";
import { createCustomerSubgraph } from "@pshub/subgraph-customer";
import { createInvoiceSubgraph } from "@pshub/subgraph-invoice";
import { type ListenOptions, listen, type RunningSubgraph } from "@pshub/subgraph-kit";
import { createOpsSubgraph } from "@pshub/subgraph-ops";
import { createProjectSubgraph } from "@pshub/subgraph-project";

type On = ListenOptions;
const starters: Record<SubgraphName, (db: Db, on: On) => Promise<RunningSubgraph>> = {
  customer: (db, on) => listen(createCustomerSubgraph(db), on),
  project: (db, on) => listen(createProjectSubgraph(db), on),
  billing: (db, on) => listen(createBillingSubgraph(db), on),
  invoice: (db, on) => listen(createInvoiceSubgraph(db), on),
  ops: (db, on) => listen(createOpsSubgraph(db), on),
};

export interface RunningSubgraphs {
  running: Record<SubgraphName, RunningSubgraph>;
  /** name → http://127.0.0.1:<port>/graphql */
  urls: Record<SubgraphName, string>;
  /** SUBGRAPH_<NAME>_URL of each, for a gateway process. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * `gatewaySecret`: the subgraphs then answer only requests signed with it (GATEWAY_SUBGRAPH_SECRET,
 * subgraphs/kit auth.ts), as under `npm start`; without it they trust the development headers.
 */
export async function startSubgraphs(
  db: Db,
  options: { gatewaySecret?: string } = {},
): Promise<RunningSubgraphs> {
  const on: On = { port: 0, host: "127.0.0.1", gatewaySecret: options.gatewaySecret };
  const list = await Promise.all(
    SUBGRAPHS.map(async ({ name }) => [name, await starters[name](db, on)] as const),
  );
  const running = Object.fromEntries(list) as Record<SubgraphName, RunningSubgraph>;
  return {
    running,
    urls: Object.fromEntries(list.map(([name, r]) => [name, r.url])) as Record<
      SubgraphName,
      string
    >,
    env: Object.fromEntries(SUBGRAPHS.map((s) => [s.urlEnv, running[s.name].url])),
    close: async () => {
      await Promise.all(list.map(([, r]) => r.close()));
    },
  };
}
