/**
 * What subscription filters need to know about an event beyond its row: the invoice, customer,
 * contract, project or owner it concerns. Read from the payload when the event carries it, else
 * looked up once (these relations never change for a row) and cached.
 */
import { sql as drizzleSql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { Sql } from "../client.ts";
import { referencedLegalEntityId } from "../legal-entity-scope.ts";
import type { DomainEventRecord } from "./reader.ts";

export interface EventFacts {
  invoiceId?: string;
  customerId?: string;
  contractId?: string;
  projectId?: string;
  owner?: string;
  /** The status the entity moved to, for status-change events. */
  status?: string;
  previousStatus?: string;
}

const dialect = new PgDialect();
const LEGAL_ENTITY_CODE_OF = (type: string, id: string) =>
  dialect.sqlToQuery(
    drizzleSql`select code from legal_entity where id = ${referencedLegalEntityId(drizzleSql`${type}::text`, drizzleSql`${id}::uuid`)}`,
  );

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Per-process cache of the parent relations of invoices and projects. */
export class EventFactsLoader {
  private readonly byEvent = new Map<number, Promise<EventFacts>>();
  private readonly invoiceCustomer = new Map<string, Promise<string | undefined>>();
  private readonly projectCustomer = new Map<string, Promise<string | undefined>>();
  private readonly workProject = new Map<string, Promise<string | undefined>>();
  private readonly legalEntities = new Map<number, Promise<string | null>>();

  constructor(
    private readonly sql: Sql,
    private readonly maxEntries = 50_000,
  ) {}

  /** Facts of one event; concurrent callers for the same event share one lookup. */
  load(event: DomainEventRecord): Promise<EventFacts> {
    let facts = this.byEvent.get(event.id);
    if (!facts) {
      facts = this.compute(event);
      this.remember(this.byEvent, event.id, facts);
    }
    return facts;
  }

  /**
   * The code of the legal entity the event's entity belongs to (null: none), by the one scoping
   * rule (legal-entity-scope.ts); asked only for scoped subscribers, and cached per event.
   */
  legalEntityOf(event: DomainEventRecord): Promise<string | null> {
    let found = this.legalEntities.get(event.id);
    if (!found) {
      const query = LEGAL_ENTITY_CODE_OF(event.entityType, event.entityId);
      found = this.sql
        .unsafe<{ code: string | null }[]>(query.sql, query.params as never[])
        .then((rows) => rows[0]?.code ?? null);
      found.catch(() => this.legalEntities.delete(event.id));
      this.remember(this.legalEntities, event.id, found);
    }
    return found;
  }

  private remember<K, V>(map: Map<K, V>, key: K, value: V) {
    map.set(key, value);
    if (map.size > this.maxEntries) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
  }

  private customerOfInvoice(id: string): Promise<string | undefined> {
    let found = this.invoiceCustomer.get(id);
    if (!found) {
      found = this.sql<{ customer_id: string }[]>`
        select customer_id from invoice where id = ${id}`.then((r) => r[0]?.customer_id);
      found.catch(() => this.invoiceCustomer.delete(id));
      this.remember(this.invoiceCustomer, id, found);
    }
    return found;
  }

  private customerOfProject(id: string): Promise<string | undefined> {
    let found = this.projectCustomer.get(id);
    if (!found) {
      found = this.sql<{ customer_id: string }[]>`
        select customer_id from project where id = ${id}`.then((r) => r[0]?.customer_id);
      found.catch(() => this.projectCustomer.delete(id));
      this.remember(this.projectCustomer, id, found);
    }
    return found;
  }

  /** The project of a time entry, expense or milestone (a payload without `projectId`). */
  private projectOfWork(table: "time_entry" | "expense" | "milestone", id: string) {
    const key = `${table}:${id}`;
    let found = this.workProject.get(key);
    if (!found) {
      found = this.sql<{ project_id: string }[]>`
        select project_id from ${this.sql(table)} where id = ${id}`.then((r) => r[0]?.project_id);
      found.catch(() => this.workProject.delete(key));
      this.remember(this.workProject, key, found);
    }
    return found;
  }

  private async compute(e: DomainEventRecord): Promise<EventFacts> {
    const p = e.payload;
    const facts: EventFacts = {
      previousStatus: str(p.from),
      status: str(p.to) ?? str(p.status),
      customerId: str(p.customerId),
      contractId: str(p.contractId),
      projectId: str(p.projectId),
      owner: str(p.owner),
    };
    switch (e.entityType) {
      case "invoice":
        facts.invoiceId = e.entityId;
        break;
      case "payment":
      case "dispute":
        facts.invoiceId = str(p.invoiceId);
        break;
      case "project":
        facts.projectId = e.entityId;
        facts.customerId ??= await this.customerOfProject(e.entityId);
        break;
      case "time_entry":
      case "expense":
      case "milestone":
        // The operations put projectId in the payload; a generic sync transition does not.
        facts.projectId ??= await this.projectOfWork(e.entityType, e.entityId);
        break;
    }
    if (facts.invoiceId && !facts.customerId) {
      facts.customerId = await this.customerOfInvoice(facts.invoiceId);
    }
    return facts;
  }
}
