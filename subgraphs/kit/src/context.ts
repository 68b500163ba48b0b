/**
 * The per-request context every resolver gets.
 */
import type { Db } from "@pshub/db";
import type { RequestLoaders } from "./loaders.ts";

export const PRINCIPAL_HEADER = "x-pshub-principal";
export const CORRELATION_HEADER = "x-correlation-id";

export interface SubgraphContext<L extends RequestLoaders = RequestLoaders> {
  db: Db;
  loaders: L;
  /** Who is asking: forwarded by the gateway in `x-pshub-principal`; "anonymous" otherwise. */
  principal: string;
  /** From `x-correlation-id`, or a fresh uuid; copied into domain events. */
  correlationId: string;
  /** Collected into `extensions.warnings` of the response. */
  warnings: string[];
  warn(message: string): void;
}
