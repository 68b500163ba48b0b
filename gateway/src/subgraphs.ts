import { SERVICE_PORTS } from "@pshub/db";

/**
 * The subgraphs the gateway composes: name (as in the supergraph), the folder holding its SDL,
 * the default URL written into the committed supergraph (its port from @pshub/db SERVICE_PORTS),
 * and the variable that overrides it.
 */
export const SUBGRAPHS = [
  {
    name: "customer",
    urlEnv: "SUBGRAPH_CUSTOMER_URL",
    defaultUrl: `http://127.0.0.1:${SERVICE_PORTS.customer}/graphql`,
  },
  {
    name: "project",
    urlEnv: "SUBGRAPH_PROJECT_URL",
    defaultUrl: `http://127.0.0.1:${SERVICE_PORTS.project}/graphql`,
  },
  {
    name: "billing",
    urlEnv: "SUBGRAPH_BILLING_URL",
    defaultUrl: `http://127.0.0.1:${SERVICE_PORTS.billing}/graphql`,
  },
  {
    name: "invoice",
    urlEnv: "SUBGRAPH_INVOICE_URL",
    defaultUrl: `http://127.0.0.1:${SERVICE_PORTS.invoice}/graphql`,
  },
  {
    name: "ops",
    urlEnv: "SUBGRAPH_OPS_URL",
    defaultUrl: `http://127.0.0.1:${SERVICE_PORTS.ops}/graphql`,
  },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]["name"];

/** Subgraph name → URL; missing names fall back to the defaults. */
export type SubgraphUrls = Partial<Record<SubgraphName, string>>;

export function resolveSubgraphUrls(overrides: SubgraphUrls = {}): Record<SubgraphName, string> {
  return Object.fromEntries(
    SUBGRAPHS.map((subgraph) => [subgraph.name, overrides[subgraph.name] ?? subgraph.defaultUrl]),
  ) as Record<SubgraphName, string>;
}

/** The health URL of a subgraph served at `…/graphql`: the same origin, path /healthz. */
export function healthUrlOf(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  url.pathname = "/healthz";
  url.search = "";
  return url.toString();
}
