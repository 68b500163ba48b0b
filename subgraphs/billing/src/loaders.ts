/**
 * Billing's per-request DataLoaders: the kit's generic ones (rows by id, nested connections) plus
 * the billing-specific batches. Every batch is ONE SQL statement; ids that are not uuids resolve
 * to null / [] without reaching the database.
 */
import {
  type Db,
  type LegalEntityScope,
  type UnbilledRow,
  type UnbilledScope,
  unbilledTotals,
} from "@pshub/db";
import { billingEvent, contract } from "@pshub/db/schema";
import { RequestLoaders, uuidLoader } from "@pshub/subgraph-kit";
import DataLoader from "dataloader";
import {
  feeScheduleByContract,
  liveEventsBySource,
  milestoneIdsByContract,
  runsByContract,
  scheduleByContract,
} from "./data/batches.ts";

type SourceType = (typeof billingEvent.$inferSelect)["sourceType"];

export class BillingLoaders extends RequestLoaders {
  billingEvent() {
    return this.byId(billingEvent);
  }

  contract() {
    return this.byId(contract);
  }

  /**
   * Unbilled totals (one per currency) of projects, contracts or customers (alone or with their
   * subsidiaries), as of a billing run up to `asOf` (default: today, database clock).
   */
  unbilled(scope: UnbilledScope, asOf?: string | null): DataLoader<string, UnbilledRow[]> {
    return this.memo(`unbilled:${scope}:${asOf ?? ""}`, () =>
      uuidLoader<UnbilledRow[]>(
        (ids) => unbilledTotals(this.db, scope, ids, { asOf, legalEntities: this.scope }),
        [],
      ),
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

  billingSchedule() {
    return this.memo("scheduleByContract", () =>
      uuidLoader((ids) => scheduleByContract(this.db, ids), null),
    );
  }

  /** The latest `last` billing-calendar runs per contract. */
  billingRuns(last: number) {
    return this.memo(`runsByContract:${last}`, () =>
      uuidLoader((ids) => runsByContract(this.db, ids, last), []),
    );
  }
}

export function createBillingLoaders(
  db: Db,
  warn: (message: string) => void,
  scope: LegalEntityScope,
): BillingLoaders {
  return new BillingLoaders(db, warn, scope);
}
