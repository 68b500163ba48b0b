/**
 * Billing's per-request DataLoaders: the kit's generic ones (rows by id, nested connections) plus
 * the billing-specific batches. Every batch is ONE SQL statement; ids that are not uuids resolve
 * to null / [] without reaching the database.
 */
import { type Db, syncExceptionsOverdue } from "@pshub/db";
import { billingEvent, contract, syncException } from "@pshub/db/schema";
import { isUuid, RequestLoaders } from "@pshub/subgraph-kit";
import DataLoader from "dataloader";
import {
  feeScheduleByContract,
  liveEventsBySource,
  milestoneIdsByContract,
} from "./data/batches.ts";
import { type UnbilledRow, type UnbilledScope, unbilledTotals } from "./data/unbilled.ts";

type SourceType = (typeof billingEvent.$inferSelect)["sourceType"];

/** A loader over a batch function, answering `empty` for keys that are not uuids. */
function uuidLoader<V>(batch: (ids: string[]) => Promise<V[]>, empty: V): DataLoader<string, V> {
  return new DataLoader<string, V>(async (keys) => {
    const valid = keys.filter(isUuid);
    const values = valid.length ? await batch(valid) : [];
    const byKey = new Map(valid.map((key, i) => [key, values[i] as V]));
    return keys.map((key) => (byKey.has(key) ? (byKey.get(key) as V) : empty));
  });
}

export class BillingLoaders extends RequestLoaders {
  billingEvent() {
    return this.byId(billingEvent);
  }

  syncException() {
    return this.byId(syncException);
  }

  /** Is the sync exception overdue? (the database's rule and clock) */
  syncExceptionOverdue() {
    return this.memo("syncExceptionOverdue", () =>
      uuidLoader<boolean>((ids) => syncExceptionsOverdue(this.db, ids), false),
    );
  }

  contract() {
    return this.byId(contract);
  }

  /** Unbilled totals (one per currency) of projects, contracts or customers. */
  unbilled(scope: UnbilledScope): DataLoader<string, UnbilledRow[]> {
    return this.memo(`unbilled:${scope}`, () =>
      uuidLoader<UnbilledRow[]>((ids) => unbilledTotals(this.db, scope, ids), []),
    );
  }

  /** The live billing event of a time entry, expense, milestone or fee schedule item. */
  liveEventBySource(sourceType: SourceType) {
    return this.memo(`liveEventBySource:${sourceType}`, () =>
      uuidLoader<typeof billingEvent.$inferSelect | null>(
        (ids) => liveEventsBySource(this.db, sourceType, ids),
        null,
      ),
    );
  }

  feeSchedule() {
    return this.memo("feeScheduleByContract", () =>
      uuidLoader((ids) => feeScheduleByContract(this.db, ids), []),
    );
  }

  milestoneIds() {
    return this.memo("milestoneIdsByContract", () =>
      uuidLoader((ids) => milestoneIdsByContract(this.db, ids), [] as string[]),
    );
  }
}

export function createBillingLoaders(db: Db, warn: (message: string) => void): BillingLoaders {
  return new BillingLoaders(db, warn);
}
