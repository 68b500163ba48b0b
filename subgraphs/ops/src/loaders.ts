/**
 * Ops's per-request DataLoaders: the kit's generic ones (rows by id) and the overdue flags. Every batch is ONE SQL
 * statement; ids that are not uuids resolve to null without reaching the database.
 */
import { type Db, type LegalEntityScope, syncExceptionsOverdue } from "@pshub/db";
import { inboxEvent, outboundCommand, sourceLink, syncException } from "@pshub/db/schema";
import { RequestLoaders, uuidLoader } from "@pshub/subgraph-kit";

export class OpsLoaders extends RequestLoaders {
  syncException() {
    return this.byId(syncException);
  }

  outboundCommand() {
    return this.byId(outboundCommand);
  }

  inboxEvent() {
    return this.byId(inboxEvent);
  }

  /** An entity's source links (its ids in Salesforce, the PSA, the ERP), by entity id. */
  sourceLinksOf() {
    return this.manyBy(sourceLink, sourceLink.entityId);
  }

  /** The exceptions an outbound command raised. */
  exceptionsOfCommand() {
    return this.manyBy(syncException, syncException.commandId);
  }

  /** Is the sync exception overdue? (the database's rule and clock) */
  syncExceptionOverdue() {
    return this.memo("syncExceptionOverdue", () =>
      uuidLoader<boolean>((ids) => syncExceptionsOverdue(this.db, ids), false),
    );
  }
}

export function createOpsLoaders(
  db: Db,
  warn: (message: string) => void,
  scope: LegalEntityScope,
): OpsLoaders {
  return new OpsLoaders(db, warn, scope);
}
