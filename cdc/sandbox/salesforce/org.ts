/**
 * The sandbox org's data: records per object (second-precision SystemModstamp, as Salesforce
 * stores it), the recycle bin and delete log, the Change Data Capture event log with replay ids,
 * and the org's users. Every write emits the change event Salesforce would (CREATE with all set
 * fields, UPDATE with only the changed ones, DELETE / UNDELETE), with changeOrigin and commitUser.
 */
import { randomBytes } from "node:crypto";
import { changeEventName, findObject, OBJECTS, type ObjectDef } from "./schema.ts";
import { SalesforceError } from "./soql.ts";

export type SfRecord = Record<string, unknown> & { Id: string };

export interface ChangeEventData {
  schema: string;
  payload: Record<string, unknown> & { ChangeEventHeader: ChangeEventHeader };
  event: { replayId: number };
}

interface ChangeEventHeader {
  entityName: string;
  recordIds: string[];
  changeType: string;
  changeOrigin: string;
  transactionKey: string;
  sequenceNumber: number;
  commitTimestamp: number;
  commitNumber: number;
  commitUser: string;
  changedFields: string[];
  nulledFields: string[];
  diffFields: string[];
}

export interface WriteOptions {
  /** The acting user (LastModifiedById, commitUser). Default: the org's admin user. */
  userId?: string;
  /** The API client that made the change (Sforce-Call-Options client=…), for changeOrigin. */
  client?: string;
  /** Seconds to shift SystemModstamp back: a transaction that began earlier and commits now
   *  (commit lag), so its stamp is older than rows already visible. */
  commitLagSeconds?: number;
  /** Emit no change event (e.g. bulk loading the org before a test). */
  silent?: boolean;
}

const ID_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/** An 18-character id: the 15-character id plus Salesforce's case-safe checksum suffix. */
export function to18(id15: string): string {
  let suffix = "";
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15[chunk * 5 + i]!;
      if (c >= "A" && c <= "Z") bits |= 1 << i;
    }
    suffix += ID_SUFFIX_CHARS[bits];
  }
  return id15 + suffix;
}

/** SOAP/REST dateTime format: 2026-11-20T10:00:00.000+0000. */
export function sfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+0000");
}

export class SandboxOrg {
  readonly orgId = to18("00D5g000004TSTB");
  readonly adminUserId: string;
  readonly integrationUserId: string;
  readonly users = new Map<string, { Id: string; Name: string; Username: string }>();
  private readonly tables = new Map<string, Map<string, SfRecord>>();
  private readonly deleteLog = new Map<string, { id: string; deletedDate: number }[]>();
  private readonly earliestDeleted = new Map<string, number>();
  private readonly counters = new Map<string, number>();
  readonly events: ChangeEventData[] = [];
  /** Replay ids at or below this are no longer retained (the 72-hour window has passed). */
  retainedAfter = 0;
  private replay = 0;
  private commitNumber = 10_000_000;
  private clockOffsetMs = 0;
  private readonly listeners: ((e: ChangeEventData) => void)[] = [];

  constructor() {
    for (const o of OBJECTS) this.tables.set(o.name, new Map());
    this.adminUserId = this.addUser("Sandbox Admin", "admin@sandbox.example");
    this.integrationUserId = this.addUser("pshub Integration", "pshub@sandbox.example");
  }

  addUser(name: string, username: string): string {
    const id = this.newId("User");
    this.users.set(id, { Id: id, Name: name, Username: username });
    const now = sfDateTime(this.now());
    this.tables.get("User")!.set(id, {
      Id: id,
      Name: name,
      Username: username,
      IsDeleted: false,
      CreatedDate: now,
      LastModifiedDate: now,
      SystemModstamp: now,
      CreatedById: id,
      LastModifiedById: id,
    });
    return id;
  }

  /** Now, at the org's second precision (shifted by advanceClock in tests). */
  now(): number {
    if (this.frozenAt !== undefined) return this.frozenAt;
    return Math.floor((Date.now() + this.clockOffsetMs) / 1000) * 1000;
  }

  /** The commit time of a change made now: the org's clock in milliseconds. */
  private commitNow(): number {
    return this.frozenAt ?? Date.now() + this.clockOffsetMs;
  }

  /** Stops the clock at its current second (many writes sharing one SystemModstamp), or
   *  restarts it. */
  freezeClock(frozen: boolean): void {
    this.frozenAt = frozen ? this.now() : undefined;
  }
  private frozenAt?: number;

  /** Moves the org's clock forward (e.g. past the delete log's 1-minute window). */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms;
  }

  onChange(listener: (e: ChangeEventData) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  object(name: string): ObjectDef {
    const o = findObject(name);
    if (!o) {
      throw new SalesforceError(404, "NOT_FOUND", `The requested resource does not exist`);
    }
    return o;
  }

  table(name: string): Map<string, SfRecord> {
    return this.tables.get(this.object(name).name)!;
  }

  newId(object: string): string {
    const o = this.object(object);
    const n = (this.counters.get(o.name) ?? 0) + 1;
    this.counters.set(o.name, n);
    // prefix (3) + pod (2) + a counter (10): lexical order is creation order.
    return to18(`${o.keyPrefix}5g${n.toString(36).toUpperCase().padStart(10, "0")}`);
  }

  /** Throws the SalesforceError a write of `fields` would get (field names, read-only, references). */
  validate(o: ObjectDef, fields: Record<string, unknown>, creating: boolean) {
    for (const name of Object.keys(fields)) {
      const f = o.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
      if (!f) {
        throw new SalesforceError(
          400,
          "INVALID_FIELD",
          `No such column '${name}' on sobject of type ${o.name}`,
        );
      }
      if (f.readOnly && !(creating && f.name === "Id")) {
        throw new SalesforceError(
          400,
          "INVALID_FIELD_FOR_INSERT_UPDATE",
          `Unable to create/update fields: ${f.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        );
      }
      const v = fields[name];
      if (f.type === "reference" && v != null) {
        const target = f.referenceTo?.[0];
        const rec = target ? this.tables.get(target)?.get(String(v)) : undefined;
        if (!rec || rec.IsDeleted) {
          throw new SalesforceError(
            400,
            "INVALID_CROSS_REFERENCE_KEY",
            `invalid cross reference id: ${String(v)} (${f.name})`,
          );
        }
      }
    }
  }

  private canonicalNames(o: ObjectDef, fields: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      const f = o.fields.find((x) => x.name.toLowerCase() === k.toLowerCase());
      out[f ? f.name : k] = v === undefined ? null : v;
    }
    return out;
  }

  /** Derived fields Salesforce computes (Contact.Name, Opportunity.IsWon, totals, numbers). */
  private derive(o: ObjectDef, rec: SfRecord) {
    if (o.name === "Contact") {
      rec.Name = [rec.FirstName, rec.LastName].filter((x) => x).join(" ") || null;
    }
    if (o.name === "Opportunity") {
      rec.IsWon = rec.StageName === "Closed Won";
      rec.IsClosed = rec.StageName === "Closed Won" || rec.StageName === "Closed Lost";
    }
    if (o.name === "pse__Timecard_Header__c") {
      const days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
      const cents = days.reduce(
        (s, d) => s + Math.round(Number(rec[`pse__${d}_Hours__c`] ?? 0) * 100),
        0,
      );
      rec.pse__Total_Hours__c = cents / 100;
    }
    if (o.fields.some((f) => f.name === "ContractNumber") && !rec.ContractNumber) {
      rec.ContractNumber = String(this.table(o.name).size + 1).padStart(8, "0");
    }
    if (o.custom && o.fields.some((f) => f.name === "Name" && f.readOnly) && !rec.Name) {
      rec.Name = `${o.label.slice(0, 2).toUpperCase()}-${String(this.table(o.name).size + 1).padStart(6, "0")}`;
    }
  }

  create(object: string, input: Record<string, unknown>, options: WriteOptions = {}): SfRecord {
    const o = this.object(object);
    this.validate(o, input, true);
    const fields = this.canonicalNames(o, input);
    const userId = options.userId ?? this.adminUserId;
    const stamp = this.now() - (options.commitLagSeconds ?? 0) * 1000;
    const id = (fields.Id as string | undefined) ?? this.newId(o.name);
    const rec: SfRecord = { Id: id };
    for (const f of o.fields) rec[f.name] = null;
    Object.assign(rec, fields, {
      Id: id,
      IsDeleted: false,
      CreatedDate: sfDateTime(stamp),
      CreatedById: userId,
      LastModifiedDate: sfDateTime(stamp),
      LastModifiedById: userId,
      SystemModstamp: sfDateTime(stamp),
    });
    for (const f of o.fields) if (f.type === "boolean" && rec[f.name] === null) rec[f.name] = false;
    this.derive(o, rec);
    this.table(o.name).set(id, rec);
    if (!options.silent) {
      const body: Record<string, unknown> = {};
      for (const f of o.fields) {
        if (["Id", "IsDeleted", "SystemModstamp"].includes(f.name)) continue;
        if (rec[f.name] !== null) body[f.name] = rec[f.name];
      }
      if (o.name === "Contact") body.Name = { FirstName: rec.FirstName, LastName: rec.LastName };
      this.emit(o, "CREATE", [id], body, [], userId, options.client);
    }
    return rec;
  }

  update(
    object: string,
    id: string,
    input: Record<string, unknown>,
    options: WriteOptions = {},
  ): SfRecord {
    const o = this.object(object);
    const rec = this.table(o.name).get(id);
    if (!rec || rec.IsDeleted) {
      throw new SalesforceError(404, "NOT_FOUND", "The requested resource does not exist");
    }
    this.validate(o, input, false);
    const fields = this.canonicalNames(o, input);
    const userId = options.userId ?? this.adminUserId;
    const stamp = this.now() - (options.commitLagSeconds ?? 0) * 1000;
    const before = { ...rec };
    Object.assign(rec, fields, {
      LastModifiedDate: sfDateTime(stamp),
      LastModifiedById: userId,
      SystemModstamp: sfDateTime(stamp),
    });
    this.derive(o, rec);
    const changed = o.fields
      .map((f) => f.name)
      .filter(
        (n) =>
          !["SystemModstamp", "LastModifiedDate", "LastModifiedById"].includes(n) &&
          JSON.stringify(before[n]) !== JSON.stringify(rec[n]),
      );
    if (!options.silent) {
      // As the CometD JSON body is documented: only the changed fields (nulls when set to null),
      // LastModifiedDate, LastModifiedById when another user saved it; a compound field's changed
      // components nested under it (Contact Name: { LastName }) and listed as Name.LastName.
      const body: Record<string, unknown> = { LastModifiedDate: rec.LastModifiedDate };
      if (before.LastModifiedById !== userId) body.LastModifiedById = userId;
      const listed: string[] = [];
      for (const n of changed) {
        if (o.name === "Contact" && (n === "FirstName" || n === "LastName")) {
          body.Name = { ...(body.Name as object | undefined), [n]: rec[n] };
          listed.push(`Name.${n}`);
        } else if (o.name === "Contact" && n === "Name") {
          // The derived full name is not a field of the change event; its components are.
        } else {
          body[n] = rec[n];
          listed.push(n);
        }
      }
      const nulled = listed.filter((n) => rec[n.slice(n.indexOf(".") + 1)] === null);
      this.emit(
        o,
        "UPDATE",
        [id],
        body,
        [...new Set([...listed, "LastModifiedDate"])],
        userId,
        options.client,
        nulled,
      );
    }
    return rec;
  }

  /** Deletes to the recycle bin: IsDeleted = true (queryAll sees it) and a delete log entry. */
  delete(object: string, id: string, options: WriteOptions = {}): void {
    const o = this.object(object);
    const rec = this.table(o.name).get(id);
    if (!rec || rec.IsDeleted) {
      throw new SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted");
    }
    const userId = options.userId ?? this.adminUserId;
    const stamp = this.now();
    rec.IsDeleted = true;
    rec.LastModifiedById = userId;
    rec.LastModifiedDate = sfDateTime(stamp);
    rec.SystemModstamp = sfDateTime(stamp);
    const log = this.deleteLog.get(o.name) ?? [];
    log.push({ id, deletedDate: stamp });
    this.deleteLog.set(o.name, log);
    if (!options.silent) this.emit(o, "DELETE", [id], {}, [], userId, options.client);
  }

  /** Empties the recycle bin for an object: deleted rows vanish from queryAll too. */
  emptyRecycleBin(object: string): void {
    const t = this.table(object);
    for (const [id, rec] of t) if (rec.IsDeleted) t.delete(id);
  }

  /** The delete log was purged (as the background job does past its limit): getDeleted for a
   *  start before now fails with INVALID_REPLICATION_DATE until a full resync. */
  purgeDeleteLog(object: string): void {
    const o = this.object(object);
    this.deleteLog.set(o.name, []);
    this.earliestDeleted.set(o.name, this.now());
    this.emptyRecycleBin(o.name);
  }

  getDeleted(object: string, start: number, end: number) {
    const o = this.object(object);
    const earliest = this.earliestDeleted.get(o.name) ?? this.now() - 30 * 86_400_000;
    if (!(end > start)) {
      throw new SalesforceError(
        400,
        "INVALID_REPLICATION_DATE",
        "startDate must be before endDate",
      );
    }
    if (start < earliest) {
      throw new SalesforceError(
        400,
        "INVALID_REPLICATION_DATE",
        `startDate is before the earliest date available (${sfDateTime(earliest)}); resync your data`,
      );
    }
    const covered = Math.min(end, this.now());
    return {
      deletedRecords: (this.deleteLog.get(o.name) ?? [])
        .filter((d) => d.deletedDate >= start && d.deletedDate <= covered)
        .map((d) => ({ id: d.id, deletedDate: sfDateTime(d.deletedDate) })),
      earliestDateAvailable: sfDateTime(earliest),
      latestDateCovered: sfDateTime(covered),
    };
  }

  getUpdated(object: string, start: number, end: number) {
    const o = this.object(object);
    const covered = Math.min(end, this.now());
    const ids = [...this.table(o.name).values()]
      .filter((r) => {
        const t = Date.parse(String(r.SystemModstamp));
        return !r.IsDeleted && t >= start && t <= covered;
      })
      .map((r) => r.Id);
    return { ids, latestDateCovered: sfDateTime(covered) };
  }

  /** A gap event: the records changed but their data could not be captured. */
  emitGap(object: string, ids: string[], changeType = "GAP_UPDATE"): void {
    const o = this.object(object);
    this.emit(o, changeType, ids, {}, [], this.adminUserId, undefined);
  }

  /** An overflow event: more changes than one transaction's events can carry. */
  emitOverflow(object: string): void {
    const o = this.object(object);
    this.emit(o, "GAP_OVERFLOW", [], {}, [], this.adminUserId, undefined);
  }

  /** Every retained event is dropped: a stored replay id is now too old to resume from. */
  expireEvents(): void {
    this.retainedAfter = this.replay;
    this.events.length = 0;
  }

  get latestReplayId(): number {
    return this.replay;
  }

  private emit(
    o: ObjectDef,
    changeType: string,
    recordIds: string[],
    body: Record<string, unknown>,
    changedFields: string[],
    userId: string,
    client: string | undefined,
    nulledFields: string[] = [],
  ) {
    if (!o.cdc) return;
    this.replay += 1;
    this.commitNumber += 1;
    const event: ChangeEventData = {
      schema: `${changeEventName(o.name)}-schema`,
      payload: {
        ChangeEventHeader: {
          entityName: o.name,
          recordIds,
          changeType,
          changeOrigin: client ? `com/salesforce/api/rest/62.0;client=${client}` : "",
          transactionKey: randomBytes(10).toString("hex"),
          sequenceNumber: 1,
          // When the change became visible: now, in milliseconds — later than the record's
          // SystemModstamp / LastModifiedDate (second precision, set when the save began; older
          // still for a commitLagSeconds write).
          commitTimestamp: this.commitNow(),
          commitNumber: this.commitNumber,
          commitUser: userId,
          changedFields,
          nulledFields,
          diffFields: [],
        },
        ...body,
      },
      event: { replayId: this.replay },
    };
    this.events.push(event);
    for (const l of this.listeners) l(event);
  }
}
