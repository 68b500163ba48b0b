/**
 * The demo generator's shared state and helpers (ids, names, source links), and the shapes its
 * domains pass each other. See ../demo.ts for what the demo firm holds.
 */
import { Builders } from "../builders.ts";
import type { SeedOptions } from "../demo.ts";
import { Random, salesforceId } from "../random.ts";
import { monthOf, previousMonth } from "../values.ts";
import { FIRST_NAMES, LAST_NAMES } from "../words.ts";
import { type Executor, type Row, RowSink } from "../writer.ts";

export const DEFAULT_SEED = 20_261_120;
export const DEFAULT_TODAY = "2026-11-20";

export const FIRM_DOMAIN = "ashfordreyes.com";

/** Invoices of the last invoiced month, in rotation: every status appears even at small scales. */
export const LATEST_INVOICE_STATUSES = [
  "DRAFT",
  "POSTED",
  "ISSUED",
  "PARTIALLY_PAID",
  "POSTED",
  "PAID",
  "DISPUTED",
  "POSTED",
] as const;

export interface Entity {
  id: string;
  code: "US" | "UK" | "DE";
  currency: string;
  jurisdiction: string;
  /** Tax rate in force for the demo period. */
  taxRate: string;
  /** Rates in this currency per USD rate, in percent. */
  rateFactor: number;
  companySuffix: string;
  phonePrefix: string;
  paymentReference: string;
  resources: ResourceInfo[];
}

interface ResourceInfo {
  id: string;
  name: string;
  email: string;
  role: string;
  billRate: string;
  seniority: number;
}

export interface CustomerInfo {
  id: string;
  name: string;
  short: string;
  entity: Entity;
  status: string;
  isParent: boolean;
  billingContactEmail: string;
}

interface PendingLine {
  event: Row;
  /** Month the line is invoiced in. */
  period: string;
}

export interface ContractContext {
  id: string;
  customer: CustomerInfo;
  model: string;
  status: string;
  start: string;
  end: string | null;
  terms: number;
  /** Invoiced billing events, grouped into invoices per month. */
  lines: PendingLine[];
  retainerHours: string | null;
  /** The contract's first project: contract-level events (fees, retainers) point to it. */
  firstProjectId?: string;
  /** BILLED time on a retainer contract, for the overage. */
  retainerTime: { id: string; projectId: string; workDate: string; hours: string; rate: string }[];
}

/** The state the demo's generators share: the PRNG, the row builders and sink, the demo's dates, counters
 * and the names and e-mails already used. One per seed run. */
export class DemoContext {
  readonly r: Random;
  readonly b: Builders;
  readonly sink: RowSink;
  readonly scale: number;
  readonly today: string;
  readonly currentMonth: string;
  /** Billed but not invoiced: billing events READY. */
  readonly readyMonth: string;
  /** The last invoiced month. */
  readonly invoicedThrough: string;
  readonly counters = new Map<string, number>();
  readonly usedNames = new Set<string>();
  readonly usedEmails = new Set<string>();
  readonly usedDivisions = new Map<string, Set<string>>();
  rowsWritten = 0;
  readonly samples = {
    customers: [] as CustomerInfo[],
    projects: [] as { id: string; code: string; status: string }[],
    opportunities: [] as { id: string; name: string }[],
    invoices: [] as { id: string; status: string }[],
  };
  contractNo = 0;
  projectNo = 0;

  constructor(
    tx: Executor,
    readonly options: SeedOptions,
  ) {
    this.scale = options.scale ?? 1;
    this.r = new Random(options.seed ?? DEFAULT_SEED);
    this.b = new Builders(this.r);
    this.today = options.today ?? DEFAULT_TODAY;
    this.currentMonth = monthOf(this.today);
    this.readyMonth = previousMonth(this.currentMonth);
    this.invoicedThrough = previousMonth(this.readyMonth);
    this.sink = new RowSink(tx, 20_000, (n) => {
      this.rowsWritten += n;
    });
    this.tx = tx;
  }

  readonly tx: Executor;

  next(counter: string, start = 1): number {
    const value = this.counters.get(counter) ?? start;
    this.counters.set(counter, value + 1);
    return value;
  }

  sfId(prefix: string): string {
    return salesforceId(prefix, this.next(`sf:${prefix}`));
  }

  link(
    entityType: string,
    entityId: string,
    system: "SALESFORCE" | "PSA" | "ERP",
    object: string,
    externalId: string,
    seenOn?: string,
  ): void {
    this.sink.push(
      "source_link",
      this.b.sourceLink({ entityType, entityId, system, object, externalId, seenOn }),
    );
  }

  personName(): string {
    return `${this.r.pick(FIRST_NAMES)} ${this.r.pick(LAST_NAMES)}`;
  }

  uniqueEmail(name: string, domain: string): string {
    const local = name
      .toLowerCase()
      .replaceAll("ü", "ue")
      .replaceAll("ö", "oe")
      .replaceAll("ä", "ae")
      .replaceAll(/[^a-z ]/g, "")
      .trim()
      .replaceAll(" ", ".");
    let email = `${local}@${domain}`;
    for (let n = 2; this.usedEmails.has(email); n++) email = `${local}${n}@${domain}`;
    this.usedEmails.add(email);
    return email;
  }

  uniqueName(name: string): string {
    let candidate = name;
    for (let n = 2; this.usedNames.has(candidate); n++) candidate = `${name} (${n})`;
    this.usedNames.add(candidate);
    return candidate;
  }
}

/** "250.00" → 250n (whole units; rates are whole numbers in the demo). */
export function toWhole(decimal: string): bigint {
  return BigInt(decimal.split(".")[0] ?? "0");
}

/** The earlier of two YYYY-MM-DD dates. */
export function earlier(a: string, b: string): string {
  return a < b ? a : b;
}
