/**
 * The demo firm: "Ashford & Reyes", a consultancy invoicing from three legal entities (US, UK,
 * DE), with customers in a hierarchy, a sales pipeline in every stage, contracts in all four
 * billing models, projects with staffed resources, time and expenses in every state, milestones,
 * fee schedules, retainers, billing events, invoices in every status, payments, disputes, source
 * links to Salesforce / the PSA / the ERP, and a few open sync exceptions.
 *
 * Deterministic: the same `seed`, `scale` and `today` produce the same rows, ids and timestamps.
 * `scale` multiplies customers, contracts, resources and time (scale 1 ≈ 25 customers, ~25
 * contracts, ~5,000 time entries; scale 40 ≈ 1,000 contracts, ~200,000 time entries). Rows are
 * generated per customer and written set-based (see ./writer.ts), all in ONE transaction.
 *
 * Billing state relative to `today` (2026-11-20 by default):
 * - months up to two before today's (≤ 2026-09) are invoiced: billable T&M time and expenses are
 *   BILLED, their billing events INVOICED with one live invoice line each; retainer periods,
 *   due fee-schedule items and approved milestones likewise;
 * - last month (2026-10) is billed but not invoiced: its billing events are READY (the unbilled
 *   KPI), its items APPROVED;
 * - this month has APPROVED work with no billing event yet (for `runBilling`) and SUBMITTED work
 *   (for approvals).
 */
import { Builders } from "./builders.ts";
import { buildLineage } from "./lineage.ts";
import { Random, salesforceId } from "./random.ts";
import {
  addDays,
  addMonths,
  applyRateHalfEven,
  at,
  dayNumber,
  fromCents,
  fromDayNumber,
  isWeekday,
  lastDayOfMonth,
  monthOf,
  multiply,
  previousMonth,
  toCents,
} from "./values.ts";
import {
  COMPANY_STEMS,
  DIVISIONS,
  EXPENSE_CATEGORIES,
  FIRST_NAMES,
  INDUSTRIES,
  LAST_NAMES,
  MILESTONE_NAMES,
  OPPORTUNITY_KINDS,
  PROJECT_TYPES,
  ROLES,
  TASKS,
  TITLES,
} from "./words.ts";
import {
  type Executor,
  enterBulkLoad,
  type Row,
  RowSink,
  TABLE_ORDER,
  verifyForeignKeys,
} from "./writer.ts";

export interface SeedOptions {
  /** Size multiplier (default 1). */
  scale?: number;
  /** PRNG seed (default 20261120). */
  seed?: number;
  /** The demo's "today", YYYY-MM-DD (default 2026-11-20). */
  today?: string;
  /** Called as contracts are generated and rows written. */
  onProgress?: (progress: SeedProgress) => void;
}

export interface SeedProgress {
  customersDone: number;
  customersTotal: number;
  rowsWritten: number;
}

export interface SeedResult {
  scale: number;
  /** Rows written per table. */
  rows: Record<string, number>;
  totalRows: number;
  seconds: number;
}

export class DatabaseNotEmptyError extends Error {
  override name = "DatabaseNotEmptyError";
}

export const DEFAULT_SEED = 20_261_120;
export const DEFAULT_TODAY = "2026-11-20";

const FIRM_DOMAIN = "ashfordreyes.com";

/** Invoices of the last invoiced month, in rotation: every status appears even at small scales. */
const LATEST_INVOICE_STATUSES = [
  "DRAFT",
  "POSTED",
  "ISSUED",
  "PARTIALLY_PAID",
  "POSTED",
  "PAID",
  "DISPUTED",
  "POSTED",
] as const;

interface Entity {
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

interface CustomerInfo {
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

/** Seeds the demo firm. Throws {@link DatabaseNotEmptyError} when the database has customers. */
export async function seedDemo(sql: Executor, options: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const result = await transaction(sql, async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('pshub_seed'))`;
    await tx`set local synchronous_commit = off`;
    const [existing] = await tx<{ any: boolean }[]>`select exists(select 1 from customer) as any`;
    if (existing?.any) {
      throw new DatabaseNotEmptyError("the database already has customers; seed with --reset");
    }
    const bulk = await enterBulkLoad(tx);
    const result = await new DemoGenerator(tx, options).run();
    if (bulk) await verifyForeignKeys(tx, TABLE_ORDER);
    return result;
  });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

/**
 * For `npm start`: seeds the demo at scale 1 when the database has no customers, else does
 * nothing. Safe to call from several processes at once (an advisory lock serialises them).
 */
export async function seedIfEmpty(sql: Executor): Promise<SeedResult | undefined> {
  try {
    return await seedDemo(sql);
  } catch (error) {
    if (error instanceof DatabaseNotEmptyError) return undefined;
    throw error;
  }
}

async function transaction<T>(sql: Executor, fn: (tx: Executor) => Promise<T>): Promise<T> {
  if ("begin" in sql) return (await sql.begin((tx) => fn(tx))) as T;
  return fn(sql);
}

class DemoGenerator {
  private readonly r: Random;
  private readonly b: Builders;
  private readonly sink: RowSink;
  private readonly scale: number;
  private readonly today: string;
  private readonly currentMonth: string;
  /** Billed but not invoiced: billing events READY. */
  private readonly readyMonth: string;
  /** The last invoiced month. */
  private readonly invoicedThrough: string;
  private readonly counters = new Map<string, number>();
  private readonly usedNames = new Set<string>();
  private readonly usedEmails = new Set<string>();
  private readonly usedDivisions = new Map<string, Set<string>>();
  private rowsWritten = 0;
  private readonly samples = {
    customers: [] as CustomerInfo[],
    projects: [] as { id: string; code: string; status: string }[],
    opportunities: [] as { id: string; name: string }[],
    invoices: [] as { id: string; status: string }[],
  };
  private contractNo = 0;
  private projectNo = 0;

  constructor(
    tx: Executor,
    private readonly options: SeedOptions,
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

  private readonly tx: Executor;

  async run(): Promise<Omit<SeedResult, "seconds">> {
    const entities = this.legalEntities();
    for (const entity of entities) this.resources(entity);
    await this.sink.flush();

    const customerCount = Math.max(4, Math.round(25 * this.scale));
    let parent: CustomerInfo | undefined;
    for (let i = 0; i < customerCount; i++) {
      const position = i % 25;
      const inGroup = position < 15;
      const isParent = inGroup && position % 3 === 0;
      const customer = this.customer(entities, isParent, inGroup && !isParent ? parent : undefined);
      if (isParent) parent = customer;
      this.customerDeals(customer, i);
      await this.sink.maybeFlush();
      this.options.onProgress?.({
        customersDone: i + 1,
        customersTotal: customerCount,
        rowsWritten: this.rowsWritten,
      });
    }
    this.syncExceptions();
    await this.sink.flush();
    await this.numberInvoices();
    await buildLineage(this.tx);
    const rows = { ...this.sink.counts };
    const totalRows = Object.values(rows).reduce((sum, n) => sum + n, 0);
    this.options.onProgress?.({
      customersDone: customerCount,
      customersTotal: customerCount,
      rowsWritten: totalRows,
    });
    return { scale: this.scale, rows, totalRows };
  }

  private next(counter: string, start = 1): number {
    const value = this.counters.get(counter) ?? start;
    this.counters.set(counter, value + 1);
    return value;
  }

  private sfId(prefix: string): string {
    return salesforceId(prefix, this.next(`sf:${prefix}`));
  }

  private link(
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

  private personName(): string {
    return `${this.r.pick(FIRST_NAMES)} ${this.r.pick(LAST_NAMES)}`;
  }

  private uniqueEmail(name: string, domain: string): string {
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

  private uniqueName(name: string): string {
    let candidate = name;
    for (let n = 2; this.usedNames.has(candidate); n++) candidate = `${name} (${n})`;
    this.usedNames.add(candidate);
    return candidate;
  }

  // -------------------------------------------------------------------------------------------
  // Reference data
  // -------------------------------------------------------------------------------------------

  private legalEntities(): Entity[] {
    const specs = [
      {
        code: "US" as const,
        name: "Ashford & Reyes Consulting LLC",
        country: "US",
        currency: "USD",
        jurisdiction: "US-NY",
        prefix: "US-INV-",
        rate: "0.0888",
        factor: 100,
        suffix: "Inc.",
        phone: "+1 212 555 01",
        reference: "ACH",
      },
      {
        code: "UK" as const,
        name: "Ashford & Reyes Consulting Ltd",
        country: "GB",
        currency: "GBP",
        jurisdiction: "GB",
        prefix: "UK-INV-",
        rate: "0.2000",
        factor: 80,
        suffix: "Ltd",
        phone: "+44 20 7946 0",
        reference: "BACS",
      },
      {
        code: "DE" as const,
        name: "Ashford & Reyes Beratung GmbH",
        country: "DE",
        currency: "EUR",
        jurisdiction: "DE",
        prefix: "DE-RE-",
        rate: "0.1900",
        factor: 92,
        suffix: "GmbH",
        phone: "+49 30 901820",
        reference: "SEPA",
      },
    ];
    const entities = specs.map((spec, index): Entity => {
      const row = this.sink.push(
        "legal_entity",
        this.b.legalEntity({
          code: `AR-${spec.code}`,
          name: spec.name,
          country: spec.country,
          currency: spec.currency,
          taxJurisdiction: spec.jurisdiction,
          invoicePrefix: spec.prefix,
        }),
      );
      this.link("legal_entity", row.id as string, "ERP", "subsidiary", String(index + 1));
      return {
        id: row.id as string,
        code: spec.code,
        currency: spec.currency,
        jurisdiction: spec.jurisdiction,
        taxRate: spec.rate,
        rateFactor: spec.factor,
        companySuffix: spec.suffix,
        phonePrefix: spec.phone,
        paymentReference: spec.reference,
        resources: [],
      };
    });
    const rates: [string, string, string][] = [
      ["US-NY", "0.0888", "2020-01-01"],
      ["GB", "0.1750", "2008-12-01"],
      ["GB", "0.2000", "2011-01-04"],
      ["DE", "0.1900", "2007-01-01"],
      ["DE", "0.1600", "2020-07-01"],
      ["DE", "0.1900", "2021-01-01"],
    ];
    for (const [jurisdiction, rate, validFrom] of rates) {
      this.sink.push("tax_rate", this.b.taxRate({ jurisdiction, rate, validFrom }));
    }
    return entities;
  }

  private resources(entity: Entity): void {
    const perScale = { US: 8, UK: 6, DE: 5 }[entity.code];
    const count = Math.max(3, Math.round(perScale * this.scale));
    for (let i = 0; i < count; i++) {
      const seniority = this.r.weighted([
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 4],
        [4, 3],
      ] as const);
      const role = ROLES[seniority] ?? ROLES[3];
      const name = this.personName();
      const billRate = `${Math.round((role.bill * entity.rateFactor) / 500) * 5}.00`;
      const costRate = `${Math.round((role.cost * entity.rateFactor) / 500) * 5}.00`;
      const active = i !== count - 1;
      const row = this.sink.push(
        "resource",
        this.b.resource({
          name,
          email: this.uniqueEmail(name, FIRM_DOMAIN),
          role: role.role,
          billRate,
          costRate,
          currency: entity.currency,
          legalEntityId: entity.id,
          active,
        }),
      );
      this.link("resource", row.id as string, "PSA", "Contact", this.sfId("003"));
      if (active) {
        entity.resources.push({
          id: row.id as string,
          name,
          email: row.email as string,
          role: role.role,
          billRate,
          seniority,
        });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Customers and the pipeline
  // -------------------------------------------------------------------------------------------

  private customer(entities: Entity[], isParent: boolean, parent?: CustomerInfo): CustomerInfo {
    const pickEntity = () =>
      this.r.weighted([
        [entities[0] as Entity, 5],
        [entities[1] as Entity, 3],
        [entities[2] as Entity, 2],
      ]);
    const entity = parent && this.r.chance(0.7) ? parent.entity : pickEntity();
    let short: string;
    let name: string;
    if (parent) {
      const used = this.usedDivisions.get(parent.id) ?? new Set<string>();
      const division = this.r.sample(
        DIVISIONS.filter((d) => !used.has(d)),
        1,
      )[0];
      used.add(division ?? "");
      this.usedDivisions.set(parent.id, used);
      short = `${parent.short} ${division ?? "Holdings"}`;
      name = this.uniqueName(`${short} ${entity.companySuffix}`);
    } else {
      short = `${this.r.pick(COMPANY_STEMS)} ${this.r.pick(INDUSTRIES)}`;
      name = this.uniqueName(isParent ? `${short} Group` : `${short} ${entity.companySuffix}`);
    }
    const status = isParent
      ? "ACTIVE"
      : this.r.weighted([
          ["ACTIVE", 88],
          ["ON_HOLD", 8],
          ["INACTIVE", 4],
        ] as const);
    const domain = `${name
      .toLowerCase()
      .replaceAll(/[^a-z0-9]+/g, "-")
      .replaceAll(/^-|-$/g, "")}.example`;
    const billingName = this.personName();
    const billingEmail = `accounts.payable@${domain}`;
    const createdOn = addDays("2024-01-08", this.r.int(0, 600));
    const row = this.sink.push(
      "customer",
      this.b.customer({
        name,
        currency: entity.currency,
        legalEntityId: entity.id,
        parentId: parent?.id ?? null,
        taxJurisdiction: entity.jurisdiction,
        billingContactName: billingName,
        billingEmail,
        status,
        createdOn,
      }),
    );
    const id = row.id as string;
    this.link("customer", id, "SALESFORCE", "Account", this.sfId("001"), createdOn);
    this.link("customer", id, "ERP", "customer", String(this.next("erp:customer", 2_100)));

    const contacts = [{ name: billingName, email: billingEmail, title: "Accounts Payable Lead" }];
    for (let k = this.r.int(1, 3); k > 0; k--) {
      const contactName = this.personName();
      contacts.push({
        name: contactName,
        email: this.uniqueEmail(contactName, domain),
        title: this.r.pick(TITLES),
      });
    }
    contacts.forEach((c, index) => {
      const contact = this.sink.push(
        "contact",
        this.b.contact({
          customerId: id,
          name: c.name,
          email: c.email,
          phone: `${entity.phonePrefix}${String(this.r.int(0, 99)).padStart(2, "0")}`,
          title: c.title,
          isBillingContact: index === 0,
          createdOn,
        }),
      );
      this.link("contact", contact.id as string, "SALESFORCE", "Contact", this.sfId("003"));
    });
    const info: CustomerInfo = {
      id,
      name,
      short,
      entity,
      status,
      isParent,
      billingContactEmail: billingEmail,
    };
    if (this.samples.customers.length < 50) this.samples.customers.push(info);
    return info;
  }

  /** The open pipeline plus the won deals (contracts, projects, work, billing) of one customer. */
  private customerDeals(customer: CustomerInfo, index: number): void {
    const pipelineStages = [
      "PROSPECTING",
      "QUALIFICATION",
      "PROPOSAL",
      "NEGOTIATION",
      "CLOSED_LOST",
      "CLOSED_WON",
    ] as const;
    this.pipelineOpportunity(customer, pipelineStages[index % pipelineStages.length] ?? "PROPOSAL");
    if (this.r.chance(0.4)) this.pipelineOpportunity(customer, this.r.pick(pipelineStages));
    if (customer.isParent) return;
    const contracts = customer.status === "INACTIVE" ? 1 : this.r.chance(0.3) ? 2 : 1;
    for (let k = 0; k < contracts; k++) this.contract(customer);
  }

  private pipelineOpportunity(customer: CustomerInfo, stage: string): void {
    const model = this.r.pick(["TIME_AND_MATERIALS", "FIXED_FEE", "RETAINER", "MILESTONE"]);
    const open = stage !== "CLOSED_WON" && stage !== "CLOSED_LOST";
    const closeDate = open
      ? addDays(this.today, this.r.int(10, 150))
      : addDays(this.today, -this.r.int(5, 120));
    const amount = `${this.r.int(20, 400) * 1_000}.00`;
    const won = stage === "CLOSED_WON";
    const startDate = addDays(closeDate, this.r.int(14, 45));
    const retainerAmount = `${this.r.int(8, 30) * 1_000}.00`;
    const row = this.sink.push(
      "opportunity",
      this.b.opportunity({
        customerId: customer.id,
        name: `${customer.short} – ${this.r.pick(OPPORTUNITY_KINDS)}`,
        stage,
        amount,
        currency: customer.entity.currency,
        closeDate,
        // A won deal waiting for conversion carries the terms conversion needs.
        billingModel: open && this.r.chance(0.4) ? null : model,
        isWon: won,
        legalEntityId: won ? customer.entity.id : null,
        startDate: won ? startDate : null,
        endDate: won ? addMonths(startDate, 12) : null,
        paymentTermsDays: won ? 30 : null,
        retainerAmount: won && model === "RETAINER" ? retainerAmount : null,
        retainerHours:
          won && model === "RETAINER" ? `${Number.parseInt(retainerAmount, 10) / 200}.00` : null,
        budgetHours: won ? `${this.r.int(30, 150) * 10}.00` : null,
        installments: won && (model === "FIXED_FEE" || model === "MILESTONE") ? 4 : null,
        createdOn: addDays(closeDate, -this.r.int(30, 120)),
      }),
    );
    this.link("opportunity", row.id as string, "SALESFORCE", "Opportunity", this.sfId("006"));
    if (won && this.samples.opportunities.length < 50) {
      this.samples.opportunities.push({ id: row.id as string, name: row.name as string });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Contracts and delivery
  // -------------------------------------------------------------------------------------------

  private contract(customer: CustomerInfo): void {
    const n = this.contractNo++;
    const models = ["TIME_AND_MATERIALS", "FIXED_FEE", "RETAINER", "MILESTONE"] as const;
    const model = models[n % 4] ?? "TIME_AND_MATERIALS";
    const entity = customer.entity;
    let status: "DRAFT" | "ACTIVE" | "COMPLETED" | "TERMINATED";
    if (customer.status === "INACTIVE") status = "COMPLETED";
    else if (n % 25 === 7) status = "DRAFT";
    else
      status = this.r.weighted([
        ["ACTIVE", 82],
        ["COMPLETED", 13],
        ["TERMINATED", 5],
      ] as const);

    let start: string;
    let end: string | null;
    if (status === "DRAFT") {
      start = addDays(this.today, this.r.int(20, 60));
      end = addMonths(start, 12);
    } else if (status === "ACTIVE") {
      start = addDays("2025-11-03", this.r.int(0, 250));
      end = model === "TIME_AND_MATERIALS" && this.r.chance(0.3) ? null : addMonths(start, 12);
    } else {
      start = addDays("2025-09-01", this.r.int(0, 150));
      end = addMonths(start, this.r.int(3, 6));
      if (end >= this.today) end = addDays(this.today, -this.r.int(30, 60));
    }
    const terms =
      entity.code === "DE"
        ? this.r.pick([14, 30])
        : this.r.weighted([
            [30, 6],
            [45, 2],
            [60, 1],
            [15, 1],
          ] as const);

    // Commercial terms per model (whole currency units).
    const factor = BigInt(entity.rateFactor);
    let total = 0n;
    let retainerAmount: string | null = null;
    let retainerHours: string | null = null;
    const feeAmounts: bigint[] = [];
    const budgetHours = this.r.int(40, 150) * 10;
    if (model === "TIME_AND_MATERIALS") {
      total = BigInt(budgetHours) * 200n * factor; // cents: hours × ~200/h × factor/100 × 100
    } else if (model === "RETAINER") {
      const amount = BigInt(this.r.int(8, 30) * 1_000) * factor;
      retainerAmount = fromCents(amount);
      retainerHours = `${Number(amount / 100n / 200n)}.00`;
      total = amount * 12n;
    } else {
      const count = model === "FIXED_FEE" ? this.r.int(3, 6) : this.r.int(4, 5);
      for (let k = 0; k < count; k++) {
        const amount = BigInt(this.r.int(15, 60) * 1_000) * factor;
        feeAmounts.push(amount);
        total += amount;
      }
    }

    const closeDate = addDays(start, -14);
    const convertedOn = addDays(start, -10);
    const opportunity = this.sink.push(
      "opportunity",
      this.b.opportunity({
        customerId: customer.id,
        name: `${customer.short} – ${this.r.pick(PROJECT_TYPES)}`,
        stage: "CLOSED_WON",
        amount: fromCents(total),
        currency: entity.currency,
        closeDate,
        billingModel: model,
        isWon: true,
        convertedAt: at(convertedOn, 11),
        legalEntityId: entity.id,
        startDate: start,
        endDate: end,
        paymentTermsDays: terms,
        retainerAmount,
        retainerHours,
        budgetHours: `${budgetHours}.00`,
        installments: feeAmounts.length || null,
        createdOn: addDays(closeDate, -this.r.int(30, 90)),
      }),
    );
    this.link(
      "opportunity",
      opportunity.id as string,
      "SALESFORCE",
      "Opportunity",
      this.sfId("006"),
    );
    const contract = this.sink.push(
      "contract",
      this.b.contract({
        number: `C-${start.slice(0, 4)}-${String(n + 1).padStart(5, "0")}`,
        customerId: customer.id,
        opportunityId: opportunity.id as string,
        legalEntityId: entity.id,
        billingModel: model,
        totalValue: fromCents(total),
        currency: entity.currency,
        retainerAmount,
        retainerHours,
        startDate: start,
        endDate: end,
        paymentTermsDays: terms,
        status,
        createdOn: convertedOn,
      }),
    );
    const contractId = contract.id as string;
    this.link("contract", contractId, "SALESFORCE", "Contract", this.sfId("800"), convertedOn);

    const ctx: ContractContext = {
      id: contractId,
      customer,
      model,
      status,
      start,
      end,
      terms,
      lines: [],
      retainerHours,
      retainerTime: [],
    };

    const projectCount =
      status === "ACTIVE" && model !== "MILESTONE" && this.r.chance(0.15) ? 2 : 1;
    for (let p = 0; p < projectCount; p++) {
      const projectStart = p === 0 ? start : addMonths(start, 3);
      if (p > 0 && projectStart > addDays(this.today, -30)) break;
      this.project(ctx, projectStart, budgetHours, p === 0 ? feeAmounts : []);
    }
    if (model === "FIXED_FEE") this.feeSchedule(ctx, feeAmounts);
    if (model === "RETAINER" && retainerAmount) {
      this.retainer(ctx, retainerAmount);
      this.retainerOverage(ctx);
    }
    this.invoices(ctx);
  }

  private project(
    ctx: ContractContext,
    start: string,
    budgetHours: number,
    milestoneAmounts: bigint[],
  ): void {
    const n = this.projectNo++;
    const entity = ctx.customer.entity;
    let status: string;
    if (ctx.status === "DRAFT") status = "PLANNED";
    else if (ctx.status === "ACTIVE")
      status = ctx.customer.status === "ON_HOLD" ? "ON_HOLD" : "ACTIVE";
    else status = this.r.chance(0.7) ? "CLOSED" : "COMPLETED";
    const code = `PRJ-${String(n + 1).padStart(5, "0")}`;
    const row = this.sink.push(
      "project",
      this.b.project({
        code,
        name: `${ctx.customer.short} – ${this.r.pick(PROJECT_TYPES)}`,
        contractId: ctx.id,
        customerId: ctx.customer.id,
        currency: entity.currency,
        startDate: start,
        endDate: ctx.end,
        budgetHours: `${budgetHours}.00`,
        budgetAmount: fromCents(BigInt(budgetHours) * 200n * BigInt(entity.rateFactor)),
        status,
        createdOn: addDays(ctx.start, -9),
      }),
    );
    const projectId = row.id as string;
    this.link("project", projectId, "PSA", "pse__Proj__c", this.sfId("a1F"), ctx.start);
    if (this.samples.projects.length < 50)
      this.samples.projects.push({ id: projectId, code, status });

    // Staffing: the most senior assignee approves time and expenses.
    const team = this.r
      .sample(entity.resources, this.r.int(3, 6))
      .sort((a, b) => a.seniority - b.seniority);
    const assignments = team.map((resource) => {
      const override = this.r.chance(0.15)
        ? fromCents(((toWhole(resource.billRate) * 90n) / 100n) * 100n)
        : null;
      const assignment = this.sink.push(
        "assignment",
        this.b.assignment({
          resourceId: resource.id,
          projectId,
          role: resource.role,
          billRateOverride: override,
          startDate: start,
          endDate: ctx.end,
          createdOn: addDays(ctx.start, -7),
        }),
      );
      this.link(
        "assignment",
        assignment.id as string,
        "PSA",
        "pse__Assignment__c",
        this.sfId("a0y"),
      );
      return { resource, rate: override ?? resource.billRate };
    });
    const approver = team[0]?.email ?? `pmo@${FIRM_DOMAIN}`;

    if (status === "PLANNED") {
      if (ctx.model === "MILESTONE")
        this.milestones(ctx, projectId, start, milestoneAmounts, approver);
      return;
    }
    const first = dayNumber(start);
    const last = Math.min(dayNumber(ctx.end ?? this.today), dayNumber(this.today));
    if (last < first) return;
    // Time and expenses are billed on T&M contracts; on retainers, expenses at cost and time
    // beyond the retainer hours as overage (see retainerOverage). Other models: not billable.
    const billableModel = ctx.model === "TIME_AND_MATERIALS" || ctx.model === "RETAINER";
    ctx.firstProjectId ??= projectId;

    // Time: ~110–260 entries per project, fewer for short windows.
    const span = last - first + 1;
    const target = Math.round(this.r.int(110, 260) * Math.min(1, span / 90));
    for (let k = 0; k < target; k++) {
      let day = first + this.r.int(0, span - 1);
      while (!isWeekday(day) && day > first) day--;
      if (!isWeekday(day)) continue;
      const workDate = fromDayNumber(day);
      const a = this.r.pick(assignments);
      const quarters = this.r.chance(0.1) ? this.r.int(2, 4) : this.r.int(8, 36);
      const hours = `${Math.floor(quarters / 4)}.${["00", "25", "50", "75"][quarters % 4]}`;
      const billable = billableModel && this.r.chance(0.92);
      const task = this.r.pick(TASKS);
      const { status: workStatus, approvedAt } = this.workState(workDate, billable);
      const entry = this.sink.push(
        "time_entry",
        this.b.timeEntry({
          projectId,
          resourceId: a.resource.id,
          workDate,
          hours,
          billRate: a.rate,
          currency: entity.currency,
          billable,
          description: task,
          status: workStatus,
          approvedAt,
          approvedBy: approvedAt ? approver : null,
        }),
      );
      this.link(
        "time_entry",
        entry.id as string,
        "PSA",
        "pse__Timecard__c",
        this.sfId("a2T"),
        workDate,
      );
      if (workStatus === "BILLED" && ctx.model === "TIME_AND_MATERIALS") {
        this.billingEvent(ctx, projectId, "TIME", entry.id as string, monthOf(workDate), {
          description: `Time ${workDate}: ${hours} h - ${task}`,
          quantity: hours,
          rate: a.rate,
          amount: multiply(hours, a.rate),
        });
      } else if (workStatus === "BILLED") {
        ctx.retainerTime.push({ id: entry.id as string, projectId, workDate, hours, rate: a.rate });
      }
    }

    // Expenses: about one per twelve time entries.
    const expenses = Math.round(target / 12);
    for (let k = 0; k < expenses; k++) {
      const day = first + this.r.int(0, span - 1);
      const incurredOn = fromDayNumber(day);
      const a = this.r.pick(assignments);
      const kind = this.r.pick(EXPENSE_CATEGORIES);
      const amount = BigInt(this.r.int(kind.min * 100, kind.max * 100));
      const billable = billableModel && this.r.chance(0.85);
      const { status: workStatus, approvedAt } = this.workState(incurredOn, billable);
      const description = `${kind.category}: ${ctx.customer.short}`;
      const expense = this.sink.push(
        "expense",
        this.b.expense({
          projectId,
          resourceId: a.resource.id,
          incurredOn,
          amount: fromCents(amount),
          currency: entity.currency,
          category: kind.category,
          billable,
          description,
          status: workStatus,
          approvedAt,
          approvedBy: approvedAt ? approver : null,
        }),
      );
      this.link(
        "expense",
        expense.id as string,
        "PSA",
        "pse__Expense__c",
        this.sfId("a0N"),
        incurredOn,
      );
      if (workStatus === "BILLED") {
        this.billingEvent(ctx, projectId, "EXPENSE", expense.id as string, monthOf(incurredOn), {
          description: `Expense ${incurredOn}: ${kind.category} - ${description}`,
          quantity: "1.00",
          rate: fromCents(amount),
          amount,
        });
      }
    }

    if (ctx.model === "MILESTONE")
      this.milestones(ctx, projectId, start, milestoneAmounts, approver);
  }

  /** The state of a piece of work done on `date`, given the billing calendar. */
  private workState(
    date: string,
    billable: boolean,
  ): { status: string; approvedAt: string | null } {
    const month = monthOf(date);
    const decided = earlier(addDays(date, 2), this.today);
    const approvedAt = at(decided, 16, 30);
    if (month <= this.invoicedThrough) {
      if (this.r.chance(0.03)) return { status: "REJECTED", approvedAt: null };
      return { status: billable ? "BILLED" : "APPROVED", approvedAt };
    }
    if (month === this.readyMonth) {
      if (this.r.chance(0.03)) return { status: "REJECTED", approvedAt: null };
      return { status: billable ? "BILLED" : "APPROVED", approvedAt };
    }
    if (dayNumber(date) > dayNumber(this.today) - 5 || this.r.chance(0.35)) {
      return { status: "SUBMITTED", approvedAt: null };
    }
    if (this.r.chance(0.04)) return { status: "REJECTED", approvedAt: null };
    return { status: "APPROVED", approvedAt };
  }

  private milestones(
    ctx: ContractContext,
    projectId: string,
    start: string,
    amounts: bigint[],
    approver: string,
  ): void {
    const endDay = dayNumber(ctx.end ?? addMonths(start, 12));
    const span = endDay - dayNumber(start);
    amounts.forEach((amount, k) => {
      const dueDate = fromDayNumber(
        dayNumber(start) + Math.round((span * (k + 1)) / amounts.length),
      );
      const name = MILESTONE_NAMES[k] ?? `Milestone ${k + 1}`;
      const started = ctx.status !== "DRAFT";
      let status = "OPEN";
      let completedOn: string | null = null;
      let approvedOn: string | null = null;
      const done = dueDate <= this.today && started;
      if (done) {
        completedOn = addDays(dueDate, -this.r.int(0, 5));
        approvedOn = earlier(addDays(completedOn, 2), this.today);
        const month = monthOf(approvedOn);
        if (month <= this.readyMonth) status = "BILLED";
        else status = this.r.chance(0.5) ? "APPROVED" : "COMPLETED";
        if (status === "COMPLETED") approvedOn = null;
      }
      const row = this.sink.push(
        "milestone",
        this.b.milestone({
          projectId,
          name,
          amount: fromCents(amount),
          currency: ctx.customer.entity.currency,
          dueDate,
          status,
          completedOn,
          approvedAt: approvedOn ? at(approvedOn, 15) : null,
          approvedBy: approvedOn ? approver : null,
          createdOn: addDays(ctx.start, -9),
        }),
      );
      this.link("milestone", row.id as string, "PSA", "pse__Milestone__c", this.sfId("a1K"));
      if (status === "BILLED" && approvedOn) {
        this.billingEvent(ctx, projectId, "MILESTONE", row.id as string, "", {
          description: `Milestone: ${name}`,
          quantity: "1.00",
          rate: fromCents(amount),
          amount,
          invoiceMonth: monthOf(approvedOn),
        });
      }
    });
  }

  private feeSchedule(ctx: ContractContext, amounts: bigint[]): void {
    amounts.forEach((amount, k) => {
      const dueDate = addMonths(ctx.start, k);
      const billed = ctx.status !== "DRAFT" && monthOf(dueDate) <= this.readyMonth;
      const description = `Instalment ${k + 1} of ${amounts.length}`;
      const row = this.sink.push(
        "fee_schedule_item",
        this.b.feeScheduleItem({
          contractId: ctx.id,
          description,
          dueDate,
          amount: fromCents(amount),
          currency: ctx.customer.entity.currency,
          status: billed ? "BILLED" : "SCHEDULED",
          createdOn: addDays(ctx.start, -10),
        }),
      );
      if (billed) {
        this.billingEvent(ctx, ctx.firstProjectId ?? null, "FIXED_FEE", row.id as string, "", {
          description: `${description} (due ${dueDate})`,
          quantity: "1.00",
          rate: fromCents(amount),
          amount,
          invoiceMonth: monthOf(dueDate),
        });
      }
    });
  }

  private retainer(ctx: ContractContext, amount: string): void {
    if (ctx.status === "DRAFT") return;
    const lastMonth =
      ctx.end && monthOf(ctx.end) < this.readyMonth ? monthOf(ctx.end) : this.readyMonth;
    for (
      let month = monthOf(ctx.start);
      month <= lastMonth;
      month = monthOf(addMonths(`${month}-01`, 1))
    ) {
      this.billingEvent(ctx, ctx.firstProjectId ?? null, "RETAINER", ctx.id, month, {
        description: `Retainer ${month} (${ctx.retainerHours} h)`,
        quantity: "1.00",
        rate: amount,
        amount: toWhole(amount) * 100n,
      });
    }
  }

  /**
   * Overage as runBilling computes it: per month, billed hours in work-date order; the part of
   * each entry beyond the retainer hours becomes a TIME event at the entry's rate.
   */
  private retainerOverage(ctx: ContractContext): void {
    const allowance = toCents(ctx.retainerHours ?? "0");
    const entries = [...ctx.retainerTime].sort((x, y) =>
      x.workDate === y.workDate ? (x.id < y.id ? -1 : 1) : x.workDate < y.workDate ? -1 : 1,
    );
    const used = new Map<string, bigint>();
    for (const e of entries) {
      const month = monthOf(e.workDate);
      const hours = toCents(e.hours);
      const cumulative = (used.get(month) ?? 0n) + hours;
      used.set(month, cumulative);
      const beyond = cumulative - allowance;
      const overage = beyond <= 0n ? 0n : beyond < hours ? beyond : hours;
      if (overage === 0n) continue;
      const quantity = fromCents(overage);
      this.billingEvent(ctx, e.projectId, "TIME", e.id, month, {
        description: `Overage ${e.workDate}: ${quantity} h of ${e.hours} h`,
        quantity,
        rate: e.rate,
        amount: multiply(quantity, e.rate),
      });
    }
  }

  private billingEvent(
    ctx: ContractContext,
    projectId: string | null,
    sourceType: string,
    sourceId: string,
    period: string,
    item: {
      description: string;
      quantity: string;
      rate: string;
      amount: bigint;
      /** Month the item is invoiced in (default: `period`). */
      invoiceMonth?: string;
    },
  ): void {
    const month = item.invoiceMonth ?? period;
    const invoiced = month <= this.invoicedThrough;
    const event = this.sink.push(
      "billing_event",
      this.b.billingEvent({
        contractId: ctx.id,
        customerId: ctx.customer.id,
        projectId,
        sourceType,
        sourceId,
        period,
        description: item.description,
        quantity: item.quantity,
        rate: item.rate,
        amount: fromCents(item.amount),
        currency: ctx.customer.entity.currency,
        status: invoiced ? "INVOICED" : "READY",
        createdOn: `${monthOf(addMonths(`${month}-01`, 1))}-01`,
      }),
    );
    if (invoiced) ctx.lines.push({ event, period: month });
  }

  // -------------------------------------------------------------------------------------------
  // Invoices, payments, disputes
  // -------------------------------------------------------------------------------------------

  private invoices(ctx: ContractContext): void {
    const byPeriod = new Map<string, Row[]>();
    for (const line of ctx.lines) {
      const events = byPeriod.get(line.period) ?? [];
      events.push(line.event);
      byPeriod.set(line.period, events);
    }
    const periods = [...byPeriod.keys()].sort();
    for (const period of periods) {
      const events = byPeriod.get(period) ?? [];
      const latest = period === this.invoicedThrough;
      const status = latest
        ? (LATEST_INVOICE_STATUSES[
            this.next("latest-invoice", 0) % LATEST_INVOICE_STATUSES.length
          ] ?? "POSTED")
        : this.next("older-invoice", 0) % 25 === 12
          ? "VOID" // one in 25, so that even a small seed shows a voided and reissued invoice
          : this.r.weighted([
              ["PAID", 80],
              ["PARTIALLY_PAID", 6],
              ["POSTED", 8],
              ["DISPUTED", 4],
              ["VOID", 2],
            ] as const);
      let issuedOn = addDays(lastDayOfMonth(period), 3);
      while (!isWeekday(dayNumber(issuedOn))) issuedOn = addDays(issuedOn, 1);
      if (status === "VOID") {
        // Issued with a mistake, voided a week later, and reissued: the items bill once.
        this.invoice(ctx, period, events, "VOID", issuedOn);
        this.invoice(ctx, period, events, "PAID", addDays(issuedOn, 8));
      } else {
        this.invoice(ctx, period, events, status, issuedOn);
      }
    }
  }

  private invoice(
    ctx: ContractContext,
    period: string,
    events: Row[],
    status: string,
    issuedOn: string,
  ): void {
    const entity = ctx.customer.entity;
    const subtotal = events.reduce((sum, e) => sum + toCents(String(e.amount)), 0n);
    // As generateInvoice: tax per line, rounded half-even.
    const tax = events.reduce(
      (sum, e) => sum + applyRateHalfEven(toCents(String(e.amount)), entity.taxRate),
      0n,
    );
    const total = subtotal + tax;
    const issued = status !== "DRAFT";
    const posted = issued && status !== "ISSUED" && status !== "VOID";
    const dueOn = addDays(issuedOn, ctx.terms);
    const periodEnd = lastDayOfMonth(period);
    const payments: { amount: bigint; on: string }[] = [];
    const paymentDay = () => {
      const day = addDays(issuedOn, this.r.int(10, ctx.terms + 20));
      return day >= this.today ? addDays(this.today, -1) : day;
    };
    if (status === "PAID") {
      if (this.r.chance(0.15)) {
        const firstPart = (total * 50n) / 100n;
        const firstOn = paymentDay();
        const secondOn = paymentDay();
        const [early, late] = [firstOn, secondOn].sort() as [string, string];
        payments.push({ amount: firstPart, on: early });
        payments.push({ amount: total - firstPart, on: late });
      } else {
        payments.push({ amount: total, on: paymentDay() });
      }
    } else if (status === "PARTIALLY_PAID") {
      payments.push({ amount: (total * BigInt(this.r.int(30, 70))) / 100n, on: paymentDay() });
    }
    const paid = payments.reduce((sum, p) => sum + p.amount, 0n);
    const lastChange = payments.at(-1)?.on ?? (issued ? issuedOn : periodEnd);
    const row = this.sink.push(
      "invoice",
      this.b.invoice({
        number: "", // assigned in issue order by numberInvoices()
        customerId: ctx.customer.id,
        contractId: ctx.id,
        legalEntityId: entity.id,
        currency: entity.currency,
        periodEnd,
        subtotal: fromCents(subtotal),
        taxRate: entity.taxRate,
        tax: fromCents(tax),
        total: fromCents(total),
        amountPaid: fromCents(paid),
        issuedOn: issued ? issuedOn : null,
        // A draft is due after the terms from its generation, as generateInvoice sets it.
        dueOn: issued ? dueOn : addDays(addDays(periodEnd, 1), ctx.terms),
        postedAt: posted ? at(addDays(issuedOn, 1), 10) : null,
        status,
        createdOn: addDays(periodEnd, 1),
      }),
    );
    const invoiceId = row.id as string;
    // A draft has no number; issued ones get theirs, per legal entity, in numberInvoices().
    row.number = issued ? `pending-${invoiceId}` : null;
    row.updated_at = at(lastChange, 12);
    if (this.samples.invoices.length < 200) this.samples.invoices.push({ id: invoiceId, status });
    if (posted) {
      this.link("invoice", invoiceId, "ERP", "invoice", String(this.next("erp:invoice", 540_000)));
    }

    events.forEach((event, k) => {
      this.sink.push(
        "invoice_line",
        this.b.invoiceLine({
          invoiceId,
          billingEventId: event.id as string,
          lineNo: k + 1,
          description: event.description as string,
          quantity: event.quantity as string,
          unitPrice: event.rate as string,
          amount: event.amount as string,
          currency: entity.currency,
          voidedAt: status === "VOID" ? at(addDays(issuedOn, 7), 14) : null,
          createdOn: addDays(periodEnd, 1),
        }),
      );
    });

    for (const p of payments) {
      const erpId = String(this.next("erp:payment", 3_100_000));
      const payment = this.sink.push(
        "payment",
        this.b.payment({
          invoiceId,
          amount: fromCents(p.amount),
          currency: entity.currency,
          receivedOn: p.on,
          reference: `${entity.paymentReference} ${String(this.r.int(10_000, 99_999))}`,
          erpId,
        }),
      );
      this.link("payment", payment.id as string, "ERP", "customerpayment", erpId, p.on);
    }

    const reasons = [
      "Hours on the October timesheet exceed the agreed cap",
      "Purchase order number missing on the invoice",
      "Travel expenses were not pre-approved",
      "Milestone accepted later than the invoice date",
      "Rate differs from the signed statement of work",
    ];
    if (status === "DISPUTED") {
      this.sink.push(
        "dispute",
        this.b.dispute({
          invoiceId,
          reason: this.r.pick(reasons),
          openedBy: ctx.customer.billingContactEmail,
          openedOn: earlier(addDays(issuedOn, this.r.int(3, 12)), this.today),
        }),
      );
    } else if (status === "PAID" && this.r.chance(0.04)) {
      const openedOn = addDays(issuedOn, 5);
      this.sink.push(
        "dispute",
        this.b.dispute({
          invoiceId,
          reason: this.r.pick(reasons),
          openedBy: ctx.customer.billingContactEmail,
          openedOn,
          status: "RESOLVED",
          resolution: "Explained with the approved timesheets; customer accepted the invoice.",
          resolvedAt: at(addDays(openedOn, 4), 11),
          resolvedBy: `finance@${FIRM_DOMAIN}`,
        }),
      );
    }
  }

  /**
   * Invoice numbers by the rule issueInvoice follows: each legal entity's own unbroken series
   * (`<prefix><n>`, n from 1) in issue order, drafts unnumbered, and each entity's
   * invoice_number_series row left at its last number; ERP document numbers for posted invoices.
   */
  private async numberInvoices(): Promise<void> {
    await this.tx`
      with numbered as (
        select i.id, le.invoice_prefix,
               row_number() over (partition by i.legal_entity_id order by i.issued_on, i.created_at, i.id) as n,
               row_number() over (order by i.issued_on, i.created_at, i.id) as erp
        from invoice i join legal_entity le on le.id = i.legal_entity_id
        where i.number is not null
      )
      update invoice i
      set number = numbered.invoice_prefix || numbered.n,
          erp_number = case when i.posted_at is not null then 'INV' || (700000 + numbered.erp) end
      from numbered where numbered.id = i.id`;
    await this.tx`
      insert into invoice_number_series (legal_entity_id, last_number, updated_at)
      select legal_entity_id, count(*), max(issued_on)::timestamp at time zone 'UTC' + interval '9 hours'
      from invoice where number is not null group by 1
      on conflict (legal_entity_id) do update
        set last_number = excluded.last_number, updated_at = excluded.updated_at`;
  }

  // -------------------------------------------------------------------------------------------
  // The exception queue
  // -------------------------------------------------------------------------------------------

  private syncExceptions(): void {
    const count = Math.max(6, Math.round(6 * this.scale));
    const { customers, projects, opportunities, invoices } = this.samples;
    for (let k = 0; k < count; k++) {
      const raisedOn = addDays(this.today, -this.r.int(0, 12));
      const customer = customers[k % customers.length];
      const project = projects.find((p) => p.status === "CLOSED") ?? projects[k % projects.length];
      const opportunity = opportunities[k % Math.max(1, opportunities.length)];
      const invoice = invoices.find((i) => i.status === "ISSUED") ?? invoices[0];
      switch (k % 6) {
        case 0:
          this.sink.push(
            "sync_exception",
            this.b.syncException({
              owner: "FINANCE",
              severity: "HIGH",
              code: "TAX_RATE_MISSING",
              entityType: "customer",
              entityId: customer?.id,
              sourceSystem: "ERP",
              message: `No tax rate for jurisdiction US-CA on ${raisedOn} (customer ${customer?.name}).`,
              remediation:
                "Add a tax_rate row for US-CA, or correct the customer's tax jurisdiction in the ERP; then retry.",
              raisedOn,
              dueOn: addDays(raisedOn, 2),
            }),
          );
          break;
        case 1:
          this.sink.push(
            "sync_exception",
            this.b.syncException({
              owner: "PROJECT_OPS",
              code: "TIME_ON_CLOSED_PROJECT",
              entityType: "project",
              entityId: project?.id,
              sourceSystem: "PSA",
              sourceRef: `pse__Timecard__c/${salesforceId("a2T", 900_000 + k)}`,
              message: `A timecard logs 6.00 h on project ${project?.code}, which is ${project?.status}.`,
              remediation:
                "Reopen the project in the PSA, or move the hours to the follow-on project; then retry.",
              raisedOn,
              dueOn: addDays(raisedOn, 5),
            }),
          );
          break;
        case 2:
          this.sink.push(
            "sync_exception",
            this.b.syncException({
              owner: "SALES_OPS",
              code: "OPPORTUNITY_MISSING_TERMS",
              entityType: "opportunity",
              entityId: opportunity?.id,
              sourceSystem: "SALESFORCE",
              sourceRef: `Opportunity/${salesforceId("006", 900_000 + k)}`,
              message: `Closed-won opportunity "${opportunity?.name}" has no payment terms; it cannot be converted.`,
              remediation:
                "Set Payment_Terms__c on the opportunity in Salesforce; the next sync converts it.",
              raisedOn,
              dueOn: addDays(raisedOn, 5),
            }),
          );
          break;
        case 3:
          this.sink.push(
            "sync_exception",
            this.b.syncException({
              owner: "INTEGRATION",
              severity: "HIGH",
              code: "ERP_POST_FAILED",
              entityType: "invoice",
              entityId: invoice?.id,
              sourceSystem: "ERP",
              message: "NetSuite rejected the invoice: INVALID_FLD_VALUE (subsidiary is inactive).",
              remediation:
                "Reactivate the subsidiary in NetSuite or correct the legal entity mapping; then retry.",
              raisedOn,
              dueOn: addDays(raisedOn, 2),
              status: "RETRYING",
              attempts: 3,
            }),
          );
          break;
        case 4:
          this.sink.push(
            "sync_exception",
            this.b.syncException({
              owner: "FINANCE",
              severity: "LOW",
              code: "PAYMENT_UNMATCHED",
              sourceSystem: "ERP",
              sourceRef: `customerpayment/${4_200_000 + k}`,
              message: "A payment of 1,250.00 USD arrived without an invoice reference.",
              remediation:
                "Apply the payment to its invoice in NetSuite; the next poll records it.",
              raisedOn,
              dueOn: addDays(raisedOn, 10),
              status: "RESOLVED",
              resolvedBy: `finance@${FIRM_DOMAIN}`,
              resolvedOn: raisedOn,
              resolutionNote: "Applied to the matching invoice in NetSuite.",
            }),
          );
          break;
        default:
          this.sink.push(
            "sync_exception",
            this.b.syncException({
              owner: "INTEGRATION",
              severity: "MEDIUM",
              code: "MAPPING_FAILED",
              sourceSystem: "SALESFORCE",
              sourceRef: `Account/${salesforceId("001", 900_000 + k)}`,
              message: "Account currency CHF is not invoiced by any legal entity.",
              remediation:
                "Set the account's currency to one a legal entity invoices in, or add a legal entity; then retry.",
              raisedOn,
              dueOn: addDays(raisedOn, 5),
              status: "IGNORED",
              resolvedBy: `integration@${FIRM_DOMAIN}`,
              resolvedOn: raisedOn,
              resolutionNote: "Test account in the Salesforce sandbox.",
            }),
          );
      }
    }
  }
}

interface ContractContext {
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

/** "250.00" → 250n (whole units; rates are whole numbers in the demo). */
function toWhole(decimal: string): bigint {
  return BigInt(decimal.split(".")[0] ?? "0");
}

/** The earlier of two YYYY-MM-DD dates. */
function earlier(a: string, b: string): string {
  return a < b ? a : b;
}
