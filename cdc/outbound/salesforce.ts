/**
 * Salesforce and PSA (Certinia, on the same org) write-back commands, through the connector's
 * SalesforceClient (the integration user), so the changes they cause come back through CDC as
 * pshub's own and are not applied again (cdc/salesforce/mapping.ts loop prevention).
 *
 * - `invoice.status.salesforce` (entity invoice, queued on every status change from POSTED on):
 *   the invoice's status and number, and the billed / paid totals of its opportunity and of its
 *   account, on the records they are linked to — sObject Collections update
 *   (PATCH /composite/sobjects, allOrNone) through the write-back field map.
 * - `invoice.status.psa` (entity invoice, on POSTED and VOID): the timecards, expenses and
 *   milestones the invoice bills are marked invoiced (with its number), or no longer, on a void.
 * - `project.upsert` (entity project, queued by convertOpportunity): the PSA project and its
 *   milestones by external id (Pshub_Id__c = hub id) — sObject Collections upsert
 *   (PATCH /composite/sobjects/{type}/{field}); a repeat updates the same records. A project or
 *   milestone already linked to a PSA record (it came from the PSA) is updated by its id instead.
 *
 * Every write sends the hub's state as it is when the command runs, so a replay or a late retry
 * is harmless. Money goes as decimal strings.
 */
import type { Db, Tx } from "@pshub/db";
import { schema } from "@pshub/db";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { SalesforceClient } from "../salesforce/client.ts";
import { errorCodeOf } from "../salesforce/client.ts";
import { type ObjectFieldMap, WRITE_BACK_FIELD_MAPS } from "../salesforce/field-map.ts";
import {
  type CommandHandler,
  type ExceptionOwner,
  type HandlerOutcome,
  PermanentCommandError,
} from "./worker.ts";

type SfRecord = Record<string, unknown>;
interface SaveResult {
  id?: string;
  success: boolean;
  created?: boolean;
  errors?: { statusCode?: string; errorCode?: string; message: string }[];
}

/** Salesforce answers a retry can fix: outages, limits, row locks, network failures. */
const TRANSIENT_CODES = new Set([
  "SERVER_UNAVAILABLE",
  "REQUEST_LIMIT_EXCEEDED",
  "API_PAUSED",
  "UNABLE_TO_LOCK_ROW",
  "ERROR_HTTP_500",
  "ERROR_HTTP_502",
  "ERROR_HTTP_503",
  "ERROR_HTTP_504",
]);

/** A failed Salesforce call, marked transient or not for the worker's classify(). */
class SalesforceCommandError extends Error {
  override name = "SalesforceCommandError";
  constructor(
    message: string,
    readonly code: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

function rethrow(error: unknown, owner: ExceptionOwner, what: string, remediation: string): never {
  if (error instanceof PermanentCommandError) throw error;
  const code = errorCodeOf(error);
  const message = (error as Error)?.message ?? String(error);
  if (!code || TRANSIENT_CODES.has(code))
    throw new SalesforceCommandError(`Salesforce ${what}: ${message}`, code ?? "NETWORK", true);
  throw new PermanentCommandError(`Salesforce refused ${what}: ${code}: ${message}`, {
    owner,
    code: `SALESFORCE_${code}`,
    severity: "HIGH",
    remediation,
  });
}

/** Per-record results: a failed record is permanent unless its code is transient. */
function checkResults(
  results: SaveResult[],
  owner: ExceptionOwner,
  what: string,
  remediation: string,
): void {
  const failed = results.filter((r) => !r.success);
  if (failed.length === 0) return;
  const errors = failed.flatMap((r) => r.errors ?? []);
  const codes = errors.map((e) => e.statusCode ?? e.errorCode ?? "UNKNOWN");
  const real = codes.filter((c) => c !== "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  const text = errors
    .filter((e) => (e.statusCode ?? e.errorCode) !== "ALL_OR_NONE_OPERATION_ROLLED_BACK")
    .map((e) => `${e.statusCode ?? e.errorCode}: ${e.message}`)
    .join("; ");
  if (real.every((c) => TRANSIENT_CODES.has(c)))
    throw new SalesforceCommandError(`Salesforce ${what}: ${text}`, real[0] ?? "UNKNOWN", true);
  throw new PermanentCommandError(`Salesforce refused ${what}: ${text}`, {
    owner,
    code: `SALESFORCE_${real.find((c) => !TRANSIENT_CODES.has(c))}`,
    severity: "HIGH",
    remediation,
  });
}

/** canonical → source field names of one object's write-back map; null entries are left out. */
function mapped(map: ObjectFieldMap | undefined, values: Record<string, unknown>): SfRecord {
  const out: SfRecord = {};
  for (const [key, value] of Object.entries(values)) {
    const field = map?.[key];
    if (field) out[field] = value;
  }
  return out;
}

async function linksOf(
  db: Db | Tx,
  entityType: string,
  ids: string[],
  system: "SALESFORCE" | "PSA",
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ entityId: schema.sourceLink.entityId, externalId: schema.sourceLink.externalId })
    .from(schema.sourceLink)
    .where(
      and(
        eq(schema.sourceLink.entityType, entityType),
        inArray(schema.sourceLink.entityId, ids),
        eq(schema.sourceLink.system, system),
      ),
    );
  return new Map(rows.map((r) => [r.entityId, r.externalId]));
}

async function loadInvoice(db: Db, cmd: { id: string; entityId: string }) {
  const [inv] = await db.select().from(schema.invoice).where(eq(schema.invoice.id, cmd.entityId));
  if (!inv)
    throw new PermanentCommandError(`invoice ${cmd.entityId} does not exist`, {
      owner: "INTEGRATION",
      code: "OUTBOUND_ENTITY_MISSING",
      remediation: `Invoice ${cmd.entityId} is gone; ignore this exception.`,
    });
  return inv;
}

/** Collections update in chunks of 200 (one request each, allOrNone). */
async function updateMany(
  sf: SalesforceClient,
  type: string,
  records: SfRecord[],
): Promise<SaveResult[]> {
  const out: SaveResult[] = [];
  for (let i = 0; i < records.length; i += 200) {
    const chunk = records.slice(i, i + 200).map((r) => ({ ...r, attributes: { type } }));
    const results = (await sf.call((c) =>
      c.update(type, chunk as never, { allOrNone: true }),
    )) as unknown as SaveResult[];
    out.push(...results);
  }
  return out;
}

export interface SalesforceOutboundOptions {
  /** The write-back field map (default WRITE_BACK_FIELD_MAPS; SALESFORCE_FIELD_MAP overrides). */
  fields?: Record<string, ObjectFieldMap>;
}

export function salesforceHandlers(
  sf: SalesforceClient,
  options: SalesforceOutboundOptions = {},
): Record<string, CommandHandler> {
  const fields = options.fields ?? WRITE_BACK_FIELD_MAPS;

  const invoiceStatusSalesforce: CommandHandler = async (cmd, ctx): Promise<HandlerOutcome> => {
    const inv = await loadInvoice(ctx.db, cmd);
    const [contract] = await ctx.db
      .select({ opportunityId: schema.contract.opportunityId })
      .from(schema.contract)
      .where(eq(schema.contract.id, inv.contractId));
    const opportunityId = contract?.opportunityId ?? null;
    const opp = opportunityId
      ? (await linksOf(ctx.db, "opportunity", [opportunityId], "SALESFORCE")).get(opportunityId)
      : undefined;
    const account = (await linksOf(ctx.db, "customer", [inv.customerId], "SALESFORCE")).get(
      inv.customerId,
    );
    if (!opp && !account) return { result: { skipped: "no linked Salesforce record" } };
    // Billed = issued and not void; paid = what the ERP reported paid. Numeric in SQL, text out.
    const [totals] = await ctx.db.execute<{
      opp_billed: string;
      opp_paid: string;
      acct_billed: string;
      acct_paid: string;
    }>(sql`
      select
        coalesce(sum(i.total) filter (where c.opportunity_id = ${opportunityId}), 0)::text as opp_billed,
        coalesce(sum(i.amount_paid) filter (where c.opportunity_id = ${opportunityId}), 0)::text as opp_paid,
        coalesce(sum(i.total) filter (where i.customer_id = ${inv.customerId}), 0)::text as acct_billed,
        coalesce(sum(i.amount_paid) filter (where i.customer_id = ${inv.customerId}), 0)::text as acct_paid
      from invoice i join contract c on c.id = i.contract_id
      where i.status not in ('DRAFT', 'VOID')
        and (i.customer_id = ${inv.customerId} or c.opportunity_id = ${opportunityId})`);
    const what = `the status of invoice ${inv.number} (${inv.id})`;
    const remediation = `Check the Salesforce write-back fields (Opportunity ${opp ?? "-"}, Account ${account ?? "-"}) exist and are writable for the integration user (field map: SALESFORCE_FIELD_MAP writeBack), then retry this exception.`;
    const sent: Record<string, SfRecord> = {};
    try {
      if (opp) {
        sent.Opportunity = mapped(fields.Opportunity, {
          invoiceStatus: inv.status,
          lastInvoiceNumber: inv.erpNumber ?? inv.number,
          billedAmount: totals!.opp_billed,
          paidAmount: totals!.opp_paid,
        });
        checkResults(
          await updateMany(sf, "Opportunity", [{ Id: opp, ...sent.Opportunity }]),
          "SALES_OPS",
          what,
          remediation,
        );
      }
      if (account) {
        sent.Account = mapped(fields.Account, {
          billedAmount: totals!.acct_billed,
          paidAmount: totals!.acct_paid,
        });
        checkResults(
          await updateMany(sf, "Account", [{ Id: account, ...sent.Account }]),
          "SALES_OPS",
          what,
          remediation,
        );
      }
    } catch (error) {
      rethrow(error, "SALES_OPS", what, remediation);
    }
    return { result: { opportunity: opp ?? null, account: account ?? null, sent } };
  };

  const invoiceStatusPsa: CommandHandler = async (cmd, ctx): Promise<HandlerOutcome> => {
    const inv = await loadInvoice(ctx.db, cmd);
    const invoiced = inv.status !== "VOID";
    // What the invoice bills (a void invoice's lines are voided: all of them).
    const items = await ctx.db
      .select({
        sourceType: schema.billingEvent.sourceType,
        sourceId: schema.billingEvent.sourceId,
      })
      .from(schema.invoiceLine)
      .innerJoin(schema.billingEvent, eq(schema.billingEvent.id, schema.invoiceLine.billingEventId))
      .where(
        and(
          eq(schema.invoiceLine.invoiceId, inv.id),
          invoiced ? sql`${schema.invoiceLine.voidedAt} is null` : undefined,
        ),
      );
    const ids = (type: string) =>
      items.filter((i) => i.sourceType === type && i.sourceId).map((i) => i.sourceId!);
    const timeLinks = await linksOf(ctx.db, "time_entry", ids("TIME"), "PSA");
    const expenseLinks = await linksOf(ctx.db, "expense", ids("EXPENSE"), "PSA");
    const milestoneLinks = await linksOf(ctx.db, "milestone", ids("MILESTONE"), "PSA");
    const values = { invoiced, invoiceNumber: invoiced ? (inv.erpNumber ?? inv.number) : null };
    // A time entry is one day of a timecard header (externalId "<header id>:<day>").
    const targets: [string, string[]][] = [
      [
        "pse__Timecard_Header__c",
        [...new Set([...timeLinks.values()].map((x) => x.split(":")[0]!))],
      ],
      ["pse__Expense__c", [...expenseLinks.values()]],
      ["pse__Milestone__c", [...milestoneLinks.values()]],
    ];
    const what = `the billed items of invoice ${inv.number} (${inv.id})`;
    const remediation = `Check that the PSA records billed by invoice ${inv.number} exist and that the write-back fields (pse__Invoiced__c, pse__Invoice_Number__c) are writable for the integration user, then retry this exception.`;
    const counts: Record<string, number> = {};
    try {
      for (const [type, recordIds] of targets) {
        if (recordIds.length === 0) continue;
        const body = mapped(fields[type], values);
        if (Object.keys(body).length === 0) continue;
        checkResults(
          await updateMany(
            sf,
            type,
            recordIds.map((Id) => ({ Id, ...body })),
          ),
          "PROJECT_OPS",
          what,
          remediation,
        );
        counts[type] = recordIds.length;
      }
    } catch (error) {
      rethrow(error, "PROJECT_OPS", what, remediation);
    }
    return { result: { invoiced, updated: counts } };
  };

  const projectUpsert: CommandHandler = async (cmd, ctx): Promise<HandlerOutcome> => {
    const [project] = await ctx.db
      .select()
      .from(schema.project)
      .where(eq(schema.project.id, cmd.entityId));
    if (!project)
      throw new PermanentCommandError(`project ${cmd.entityId} does not exist`, {
        owner: "INTEGRATION",
        code: "OUTBOUND_ENTITY_MISSING",
        remediation: `Project ${cmd.entityId} is gone; ignore this exception.`,
      });
    const [contract] = await ctx.db
      .select()
      .from(schema.contract)
      .where(eq(schema.contract.id, project.contractId));
    const milestones = await ctx.db
      .select()
      .from(schema.milestone)
      .where(eq(schema.milestone.projectId, project.id))
      .orderBy(asc(schema.milestone.dueDate), asc(schema.milestone.id));
    const account = (await linksOf(ctx.db, "customer", [project.customerId], "SALESFORCE")).get(
      project.customerId,
    );
    const opportunityId = contract?.opportunityId;
    const opp = opportunityId
      ? (await linksOf(ctx.db, "opportunity", [opportunityId], "SALESFORCE")).get(opportunityId)
      : undefined;
    const projectLink = (await linksOf(ctx.db, "project", [project.id], "PSA")).get(project.id);
    const milestoneLinks = await linksOf(
      ctx.db,
      "milestone",
      milestones.map((m) => m.id),
      "PSA",
    );
    const projectFields = mapped(fields.pse__Proj__c, {
      hubId: project.id,
      name: project.name,
      accountId: account ?? null,
      opportunityId: opp ?? null,
      stage: "Planned",
      startDate: project.startDate,
      endDate: project.endDate,
      budgetHours: project.budgetHours,
      currency: contract?.currency,
    });
    const what = `project ${project.name} (${project.id})`;
    const remediation = `Correct project ${project.name} (${project.id}) or its milestones in the hub as the PSA's error names (name, dates, account), or check the PSA write-back fields (Pshub_Id__c is an External ID on pse__Proj__c and pse__Milestone__c), then retry this exception.`;
    const hubIdField = fields.pse__Proj__c?.hubId ?? "Pshub_Id__c";
    const milestoneHubId = fields.pse__Milestone__c?.hubId ?? "Pshub_Id__c";
    let projectId: string | undefined = projectLink;
    let created = false;
    const links: { entityType: string; entityId: string; object: string; externalId: string }[] =
      [];
    try {
      if (projectLink) {
        checkResults(
          await updateMany(sf, "pse__Proj__c", [{ Id: projectLink, ...projectFields }]),
          "PROJECT_OPS",
          what,
          remediation,
        );
      } else {
        const [res] = (await sf.call((c) =>
          c.upsert(
            "pse__Proj__c",
            [{ ...projectFields, attributes: { type: "pse__Proj__c" } }] as never,
            hubIdField,
            {
              allOrNone: true,
            },
          ),
        )) as unknown as SaveResult[];
        checkResults([res!], "PROJECT_OPS", what, remediation);
        projectId = res!.id;
        created = res!.created === true;
        links.push({
          entityType: "project",
          entityId: project.id,
          object: "pse__Proj__c",
          externalId: projectId!,
        });
      }
      const linked = milestones.filter((m) => milestoneLinks.has(m.id));
      const unlinked = milestones.filter((m) => !milestoneLinks.has(m.id));
      const milestoneFields = (m: (typeof milestones)[number]) =>
        mapped(fields.pse__Milestone__c, {
          hubId: m.id,
          name: m.name,
          amount: m.amount,
          currency: m.currency,
          dueDate: m.dueDate,
        });
      if (linked.length > 0)
        checkResults(
          await updateMany(
            sf,
            "pse__Milestone__c",
            linked.map((m) => ({ Id: milestoneLinks.get(m.id)!, ...milestoneFields(m) })),
          ),
          "PROJECT_OPS",
          what,
          remediation,
        );
      for (let i = 0; i < unlinked.length; i += 200) {
        const chunk = unlinked.slice(i, i + 200);
        const results = (await sf.call((c) =>
          c.upsert(
            "pse__Milestone__c",
            chunk.map((m) => ({
              ...milestoneFields(m),
              // The parent by its own external id: no lookup of the PSA project id needed.
              pse__Project__r: { [hubIdField]: project.id },
              attributes: { type: "pse__Milestone__c" },
            })) as never,
            milestoneHubId,
            { allOrNone: true },
          ),
        )) as unknown as SaveResult[];
        checkResults(results, "PROJECT_OPS", what, remediation);
        for (const [k, m] of chunk.entries())
          links.push({
            entityType: "milestone",
            entityId: m.id,
            object: "pse__Milestone__c",
            externalId: results[k]!.id!,
          });
      }
    } catch (error) {
      rethrow(error, "PROJECT_OPS", what, remediation);
    }
    return {
      result: { projectId: projectId ?? null, created, milestones: milestones.length },
      apply: async (tx) => {
        for (const l of links)
          await tx
            .insert(schema.sourceLink)
            .values({ ...l, system: "PSA" })
            .onConflictDoNothing();
      },
    };
  };

  return {
    "invoice.status.salesforce": invoiceStatusSalesforce,
    "invoice.status.psa": invoiceStatusPsa,
    "project.upsert": projectUpsert,
  };
}
