import { SERVICE_PORTS } from "@pshub/db";

/**
 * Every process `npm start` runs, in start order. Each entry is a TypeScript file run with tsx;
 * the launcher (scripts/start.ts) gives it PORT, DATABASE_URL and the URLs of the others, and
 * waits for GET http://127.0.0.1:PORT{healthPath} to answer 200.
 */
export interface ServiceSpec {
  /** Short name, used in log lines and in the gateway's /healthz. */
  name: string;
  /** Entry file, relative to the repo root. */
  entry: string;
  /** Default port (@pshub/db SERVICE_PORTS); overridable with the environment variable `portEnv`. */
  port: number;
  portEnv: string;
  healthPath: string;
  /** Not a GraphQL subgraph (the CDC process): no SUBGRAPH_*_URL; its URL is `urlPath`. */
  subgraph?: false;
  /** Path shown in the "pshub is up" block (default /graphql). */
  urlPath?: string;
}

export const services: ServiceSpec[] = [
  {
    name: "customer",
    entry: "subgraphs/customer/src/main.ts",
    port: SERVICE_PORTS.customer,
    portEnv: "CUSTOMER_PORT",
    healthPath: "/healthz",
  },
  {
    name: "project",
    entry: "subgraphs/project/src/main.ts",
    port: SERVICE_PORTS.project,
    portEnv: "PROJECT_PORT",
    healthPath: "/healthz",
  },
  {
    name: "billing",
    entry: "subgraphs/billing/src/main.ts",
    port: SERVICE_PORTS.billing,
    portEnv: "BILLING_PORT",
    healthPath: "/healthz",
  },
  {
    name: "invoice",
    entry: "subgraphs/invoice/src/main.ts",
    port: SERVICE_PORTS.invoice,
    portEnv: "INVOICE_PORT",
    healthPath: "/healthz",
  },
  {
    name: "ops",
    entry: "subgraphs/ops/src/main.ts",
    port: SERVICE_PORTS.ops,
    portEnv: "OPS_PORT",
    healthPath: "/healthz",
  },
  {
    name: "cdc",
    entry: "cdc/main.ts",
    port: SERVICE_PORTS.cdc,
    portEnv: "CDC_PORT",
    healthPath: "/healthz",
    subgraph: false,
    urlPath: "/webhooks",
  },
  {
    name: "gateway",
    entry: "gateway/src/main.ts",
    port: SERVICE_PORTS.gateway,
    portEnv: "PORT",
    healthPath: "/healthz",
  },
];
