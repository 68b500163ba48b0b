/**
 * The default port of every pshub service, defined once: the launcher's registry
 * (scripts/services.ts), the gateway's subgraph URLs (gateway/src/subgraphs.ts), the gateway's and
 * each subgraph's PORT default all read it. Each is overridable at run time (PORT, or
 * <NAME>_PORT under `npm start`).
 */
export const SERVICE_PORTS = {
  gateway: 4000,
  customer: 4001,
  project: 4002,
  billing: 4003,
  invoice: 4004,
  ops: 4005,
  /** The CDC process: POST /webhooks, GET /healthz. */
  cdc: 4010,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;
