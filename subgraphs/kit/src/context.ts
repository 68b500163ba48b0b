/**
 * The per-request context every resolver gets.
 */
import type { Db, LegalEntityScope, Principal } from "@pshub/db";

export { CORRELATION_HEADER } from "@pshub/db";

import type { RequestLoaders } from "./loaders.ts";

export interface SubgraphContext<L extends RequestLoaders = RequestLoaders> {
  db: Db;
  loaders: L;
  /** Who is asking (the principal's id): the actor of audit rows and domain events. */
  principal: string;
  /**
   * The verified principal the gateway forwarded (id, roles, legal-entity scope, how it was
   * authenticated); see auth.ts. Roles and scoping read it.
   */
  auth: Principal;
  /**
   * The legal-entity codes the principal may see (`auth.legalEntities`; undefined = all). Pass it
   * to every list and loader: the SQL applies it (db's inLegalEntityScope).
   */
  scope: LegalEntityScope;
  /** From `x-correlation-id`, or a fresh uuid; copied into domain events. */
  correlationId: string;
  /** Collected into `extensions.warnings` of the response. */
  warnings: string[];
  warn(message: string): void;
}
