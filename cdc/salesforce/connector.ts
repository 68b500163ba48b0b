/**
 * The Salesforce org's connectors: "salesforce" (CRM: Account, Contact, Opportunity, Contract)
 * and "certinia" (PSA: pse__Proj__c, pse__Milestone__c, pse__Assignment__c,
 * pse__Timecard_Header__c, pse__Timecard__c, pse__Expense__c) over ONE jsforce connection, one
 * poller per object and one Change Data Capture stream for the org.
 *
 * At start: authenticate, check every mapped field against describe (a missing field is an
 * error naming object and field), load the legal entity codes, then (streaming on) subscribe.
 * The same code talks to a real org or to the sandbox: it only ever sees URLs and credentials.
 */
import { type Db, schema } from "@pshub/db";
import { eq, sql } from "drizzle-orm";
import { CERTINIA_FIELD_MAPS, CERTINIA_VALUE_MAPS } from "../certinia/field-map.ts";
import { certiniaMappers } from "../certinia/mappers.ts";
import type {
  Connector,
  InboundRecord,
  Ingest,
  Mapper,
  PollContext,
  SourceSystem,
} from "../engine/types.ts";
import { type SalesforceAuth, SalesforceClient } from "./client.ts";
import {
  type MappingConfig,
  mergeMapping,
  SALESFORCE_FIELD_MAPS,
  SALESFORCE_VALUE_MAPS,
} from "./field-map.ts";
import { salesforceMappers } from "./mappers.ts";
import { type MapperContext } from "./mapping.ts";
import { ObjectPoller } from "./poller.ts";
import { ChangeStream } from "./stream.ts";

export const SALESFORCE_OBJECTS = ["Account", "Contact", "Opportunity", "Contract"] as const;
export const CERTINIA_OBJECTS = [
  "pse__Proj__c",
  "pse__Milestone__c",
  "pse__Assignment__c",
  "pse__Timecard_Header__c",
  "pse__Timecard__c",
  "pse__Expense__c",
] as const;

export interface SalesforceConfig {
  auth: SalesforceAuth;
  apiVersion: string;
  pollIntervalMs: number;
  streaming: boolean;
  /** CDC channel: /data/ChangeEvents (all selected entities) or a single-entity channel. */
  channel: string;
  pageSize: number;
  bulkThreshold: number;
  lookbackMs: number;
  sweepEveryMs: number;
  slowDownShare: number;
  slowDownDelayMs: number;
  limitPauseMs: number;
  httpTimeoutMs: number;
  clientName: string;
  /** Extra user ids whose changes are pshub's own (besides the authenticated user). */
  integrationUserIds: string[];
  /** Field map override (SALESFORCE_FIELD_MAP, parsed). */
  fieldMapOverride?: Record<string, unknown>;
  /** Which connectors to run. */
  certinia: boolean;
}

export const SALESFORCE_DEFAULTS = {
  apiVersion: "62.0",
  pollIntervalMs: 30_000,
  streaming: true,
  channel: "/data/ChangeEvents",
  pageSize: 2000,
  bulkThreshold: 10_000,
  lookbackMs: 5 * 60_000,
  sweepEveryMs: 60_000,
  slowDownShare: 0.8,
  slowDownDelayMs: 2000,
  limitPauseMs: 15 * 60_000,
  httpTimeoutMs: 120_000,
  clientName: "pshub",
  integrationUserIds: [] as string[],
  certinia: true,
} satisfies Omit<SalesforceConfig, "auth">;

export interface SalesforceOrg {
  client: SalesforceClient;
  connectors: Connector[];
  mapping: MappingConfig;
  stream?: ChangeStream;
  pollers: Map<string, ObjectPoller>;
  /** Reloads legal entity codes (after reference data changes). */
  refreshReferenceData(): Promise<void>;
}

export class MissingFieldError extends Error {
  constructor(readonly problems: { object: string; field: string }[]) {
    super(
      `Salesforce field map: ${problems.map((p) => `${p.object}.${p.field} does not exist in the org (describe ${p.object})`).join("; ")}. Fix the field name in SALESFORCE_FIELD_MAP or map it to null.`,
    );
    this.name = "MissingFieldError";
  }
}

/** Builds the org's connectors. `db` is read for reference data, links and stored cursors. */
export function createSalesforceOrg(
  config: SalesforceConfig,
  db: Db,
  log?: (m: string, d?: Record<string, unknown>) => void,
): SalesforceOrg {
  const mapping = mergeMapping(
    {
      fields: { ...SALESFORCE_FIELD_MAPS, ...CERTINIA_FIELD_MAPS },
      values: { ...SALESFORCE_VALUE_MAPS, ...CERTINIA_VALUE_MAPS },
    },
    config.fieldMapOverride,
  );
  const client = new SalesforceClient({
    auth: config.auth,
    apiVersion: config.apiVersion,
    slowDownShare: config.slowDownShare,
    slowDownDelayMs: config.slowDownDelayMs,
    limitPauseMs: config.limitPauseMs,
    httpTimeoutMs: config.httpTimeoutMs,
    clientName: config.clientName,
    log,
  });
  const ctx: MapperContext = {
    mapping,
    legalEntities: new Map(),
    ownUserIds: new Set(config.integrationUserIds),
  };
  const allMappers = [...salesforceMappers(ctx), ...(config.certinia ? certiniaMappers(ctx) : [])];
  const resourceFields = Object.values(mapping.fields.Resource ?? {}).filter(
    (f): f is string => !!f,
  );
  const mapperOf = (object: string) => allMappers.find((m) => m.object === object)!;
  const fieldsOf = (object: string) => {
    const m = mapperOf(object);
    return object === "Contact" && config.certinia
      ? [...m.requiredFields, ...resourceFields]
      : m.requiredFields;
  };

  const knownExternalIds = async (object: string) => {
    const rows = await db
      .select({ externalId: schema.sourceLink.externalId })
      .from(schema.sourceLink)
      .where(eq(schema.sourceLink.object, object));
    return rows.map((r) => r.externalId);
  };
  const readCursor = async (connector: string, object: string) => {
    const [row] = await db
      .select({ cursor: schema.syncCursor.cursor })
      .from(schema.syncCursor)
      .where(
        sql`${schema.syncCursor.connector} = ${connector} and ${schema.syncCursor.object} = ${object}`,
      );
    return row?.cursor;
  };

  const pollers = new Map<string, ObjectPoller>();
  const systemOf = new Map<string, SourceSystem>();
  const connectorOf = new Map<string, string>();
  for (const object of SALESFORCE_OBJECTS) {
    systemOf.set(object, "SALESFORCE");
    connectorOf.set(object, "salesforce");
  }
  if (config.certinia) {
    for (const object of CERTINIA_OBJECTS) {
      systemOf.set(object, "PSA");
      connectorOf.set(object, "certinia");
    }
  }
  for (const [object, system] of systemOf) {
    pollers.set(
      object,
      new ObjectPoller(client, {
        connector: connectorOf.get(object)!,
        system,
        object,
        fields: fieldsOf(object),
        pageSize: config.pageSize,
        bulkThreshold: config.bulkThreshold,
        lookbackMs: config.lookbackMs,
        sweepEveryMs: config.sweepEveryMs,
        knownExternalIds,
        log,
      }),
    );
  }

  let checked: Promise<void> | undefined;
  const prepare = () => {
    checked ??= (async () => {
      await client.connect();
      if (client.userId) ctx.ownUserIds.add(client.userId);
      await refreshReferenceData();
      const problems: { object: string; field: string }[] = [];
      for (const [object, poller] of pollers) {
        const describe = await client.call((c) => c.sobject(object).describe());
        const names = new Set(describe.fields.map((f) => f.name.toLowerCase()));
        for (const f of poller.selectFields)
          if (!names.has(f.toLowerCase())) problems.push({ object, field: f });
      }
      if (problems.length > 0) throw new MissingFieldError(problems);
    })().catch((err) => {
      checked = undefined;
      throw err;
    });
    return checked;
  };
  const refreshReferenceData = async () => {
    const rows = await db
      .select({ id: schema.legalEntity.id, code: schema.legalEntity.code })
      .from(schema.legalEntity);
    ctx.legalEntities.clear();
    for (const r of rows) {
      ctx.legalEntities.set(r.code.toLowerCase(), r.id);
      ctx.legalEntities.set(r.id.toLowerCase(), r.id);
    }
  };

  let stream: ChangeStream | undefined;
  if (config.streaming) {
    stream = new ChangeStream(client, {
      connector: "salesforce",
      channel: config.channel,
      pollers: new Map([...pollers].map(([o, p]) => [o, { poller: p, system: systemOf.get(o)! }])),
      lookbackMs: config.lookbackMs,
      clientName: config.clientName,
      ownUserId: () => client.userId,
      readCursor,
      log,
    });
  }

  const build = (
    name: "salesforce" | "certinia",
    system: SourceSystem,
    objects: readonly string[],
    withStream: boolean,
  ): Connector => ({
    name,
    system,
    objects: [...objects],
    mappers: objects.map(mapperOf) as Mapper[],
    pollIntervalMs: config.pollIntervalMs,
    async pollOnce(object: string, pollCtx: PollContext) {
      await prepare();
      const poller = pollers.get(object);
      if (!poller) throw new Error(`${name} does not poll ${object}`);
      return poller.pollOnce(pollCtx);
    },
    async fetchOne(object: string, externalId: string): Promise<InboundRecord | undefined> {
      await prepare();
      const poller = pollers.get(object);
      if (!poller) throw new Error(`${name} does not read ${object}`);
      const [record] = await poller.fetchByIds([externalId.split(":")[0]!]);
      return record ? { ...record, modifiedBy: undefined } : undefined;
    },
    async start(startCtx: { ingest: Ingest; signal: AbortSignal }) {
      await prepare();
      if (withStream && stream) await stream.start(startCtx.ingest);
    },
    async stop() {
      if (withStream) await stream?.stop();
    },
  });

  const connectors = [build("salesforce", "SALESFORCE", SALESFORCE_OBJECTS, true)];
  if (config.certinia) connectors.push(build("certinia", "PSA", CERTINIA_OBJECTS, false));
  return { client, connectors, mapping, stream, pollers, refreshReferenceData };
}
