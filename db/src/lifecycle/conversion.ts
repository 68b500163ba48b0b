/**
 * convertOpportunity: a closed-won opportunity becomes a customer (created or updated), a
 * contract and a project — with milestones (MILESTONE), a fee schedule (FIXED_FEE) or retainer
 * terms (RETAINER) — in one transaction.
 *
 * It validates first what every later failure would grow from: the account hierarchy, the legal
 * entity, the tax jurisdiction (the account's, else the deal's, else the legal entity's; a deal
 * naming another than its account's is refused, since the hub taxes per customer; and a tax rate
 * for it), the currency, the billing model and its
 * terms. Whatever is missing is reported at once: a VALIDATION_FAILED error listing the problems,
 * and a sync exception for SALES_OPS whose remediation names each field and record.
 */
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "../client.ts";
import { type DomainEventInput, emitDomainEvents } from "../domain-events.ts";
import { conversionCommands, enqueueCommands } from "../outbound.ts";
import {
  contract,
  customer,
  feeScheduleItem,
  legalEntity,
  milestone,
  opportunity,
  project,
  taxRate,
} from "../schema.ts";
import { assertConvertible } from "./machines.ts";
import { defineOperation, id, RemediableError } from "./operation.ts";
import { lockOne } from "./rows.ts";

export interface ConversionProblem {
  /** The record to fix, e.g. "Opportunity 0061x… (Acme renewal)". */
  record: string;
  /** The field to fix, e.g. "Opportunity.Legal_Entity__c". */
  field: string;
  message: string;
}

export interface ConversionResult {
  opportunity: typeof opportunity.$inferSelect;
  customer: typeof customer.$inferSelect;
  contract: typeof contract.$inferSelect;
  project: typeof project.$inferSelect;
}

const MAX_INSTALLMENTS = 120;

export const convertOpportunity = defineOperation({
  name: "convertOpportunity",
  input: z.object({ opportunityId: id() }),
  async run(tx, ctx, input): Promise<ConversionResult> {
    const opp = await lockOne(tx, opportunity, "opportunity", input.opportunityId);
    assertConvertible(opp);
    const cust = await lockOne(tx, customer, "customer", opp.customerId);

    const oppRecord = `Opportunity ${opp.id} (${opp.name})`;
    const custRecord = `Account ${cust.id} (${cust.name})`;
    const problems: ConversionProblem[] = [];
    const problem = (record: string, field: string, message: string) =>
      problems.push({ record, field, message });

    // Account hierarchy: every ancestor exists, is not inactive, and there is no cycle.
    if (cust.status === "INACTIVE")
      problem(custRecord, "Account.Status", "the account is inactive");
    const ancestors = await accountAncestors(tx, cust.id);
    for (const a of ancestors) {
      if (a.cycle) {
        problem(custRecord, "Account.ParentId", `the account hierarchy loops back to ${a.id}`);
      } else if (a.status === "INACTIVE") {
        problem(
          `Account ${a.id} (${a.name})`,
          "Account.Status",
          "a parent account of the customer is inactive",
        );
      }
    }

    // Legal entity: from the opportunity, else the account; both set must agree.
    const legalEntityId = opp.legalEntityId ?? cust.legalEntityId;
    if (!legalEntityId) {
      problem(
        oppRecord,
        "Opportunity.Legal_Entity__c",
        "no invoicing legal entity (nor on the account)",
      );
    } else if (
      opp.legalEntityId &&
      cust.legalEntityId &&
      opp.legalEntityId !== cust.legalEntityId
    ) {
      problem(
        oppRecord,
        "Opportunity.Legal_Entity__c",
        `legal entity ${opp.legalEntityId} differs from the account's ${cust.legalEntityId}`,
      );
    }
    const [entity] = legalEntityId
      ? await tx.select().from(legalEntity).where(eq(legalEntity.id, legalEntityId))
      : [];
    if (legalEntityId && !entity) {
      problem(oppRecord, "Opportunity.Legal_Entity__c", `legal entity ${legalEntityId} is unknown`);
    }

    // Tax jurisdiction: the account's, else the deal's, else the legal entity's; it must have a
    // rate. The hub taxes per customer, so a deal naming another jurisdiction than its account
    // cannot be converted as it stands (it would be invoiced under the account's).
    if (
      opp.taxJurisdiction &&
      cust.taxJurisdiction &&
      opp.taxJurisdiction !== cust.taxJurisdiction
    ) {
      problem(
        oppRecord,
        "Opportunity.Tax_Jurisdiction__c",
        `tax jurisdiction ${opp.taxJurisdiction} differs from the account's ${cust.taxJurisdiction} (the hub taxes per customer)`,
      );
    }
    const jurisdiction =
      cust.taxJurisdiction ?? opp.taxJurisdiction ?? entity?.taxJurisdiction ?? null;
    const fromDeal = !cust.taxJurisdiction && !!opp.taxJurisdiction;
    if (!jurisdiction) {
      problem(custRecord, "Account.Tax_Jurisdiction__c", "no tax jurisdiction");
    } else {
      const [rate] = await tx
        .select({ id: taxRate.id })
        .from(taxRate)
        .where(eq(taxRate.jurisdiction, jurisdiction))
        .limit(1);
      if (!rate) {
        problem(
          fromDeal ? oppRecord : custRecord,
          fromDeal ? "Opportunity.Tax_Jurisdiction__c" : "Account.Tax_Jurisdiction__c",
          `tax jurisdiction ${jurisdiction} has no tax rate`,
        );
      }
    }

    // Currency.
    if (opp.currency !== cust.currency) {
      problem(
        oppRecord,
        "Opportunity.CurrencyIsoCode",
        `currency ${opp.currency} differs from the account's ${cust.currency}`,
      );
    }

    // Contract type, billing model and its terms.
    const installments = opp.installments ?? 1;
    if (!opp.billingModel) {
      problem(oppRecord, "Opportunity.Billing_Model__c", "no billing model");
    } else if (opp.billingModel === "RETAINER") {
      if (!opp.retainerAmount || !/[1-9]/.test(opp.retainerAmount)) {
        problem(oppRecord, "Opportunity.Retainer_Amount__c", "a RETAINER needs a retainer amount");
      }
      if (!opp.retainerHours || !/[1-9]/.test(opp.retainerHours)) {
        problem(oppRecord, "Opportunity.Retainer_Hours__c", "a RETAINER needs retainer hours");
      }
    } else if (opp.billingModel === "FIXED_FEE" || opp.billingModel === "MILESTONE") {
      if (installments < 1 || installments > MAX_INSTALLMENTS) {
        problem(
          oppRecord,
          "Opportunity.Installments__c",
          `installments must be 1 to ${MAX_INSTALLMENTS}, is ${installments}`,
        );
      }
      if (!/[1-9]/.test(opp.amount)) {
        problem(oppRecord, "Opportunity.Amount", `a ${opp.billingModel} contract needs an amount`);
      }
    }
    if (!opp.startDate) problem(oppRecord, "Opportunity.Start_Date__c", "no start date");
    if (opp.startDate && opp.endDate && opp.endDate < opp.startDate) {
      problem(oppRecord, "Opportunity.End_Date__c", "the end date is before the start date");
    }
    const paymentTermsDays = opp.paymentTermsDays ?? 30;
    if (paymentTermsDays < 0 || paymentTermsDays > 365) {
      problem(oppRecord, "Opportunity.Payment_Terms__c", "payment terms must be 0 to 365 days");
    }

    if (problems.length > 0 || !opp.billingModel || !opp.startDate || !entity) {
      const summary = problems.map((p) => `${p.field} on ${p.record}: ${p.message}`).join("; ");
      throw new RemediableError(
        `opportunity ${opp.id} cannot be converted: ${summary}`,
        {
          owner: "SALES_OPS",
          severity: "HIGH",
          code: "CONVERSION_BLOCKED",
          entityType: "opportunity",
          entityId: opp.id,
          sourceSystem: "SALESFORCE",
          message: `Opportunity ${opp.name} cannot be converted (${problems.length} problem${problems.length === 1 ? "" : "s"})`,
          remediation: problems
            .map((p) => `Fix ${p.field} on ${p.record}: ${p.message}.`)
            .join("\n"),
        },
        { problems, field: problems[0]?.field, opportunityId: opp.id },
      );
    }

    const correlationId = randomUUID();
    const events: DomainEventInput[] = [];
    const event = (e: Omit<DomainEventInput, "actor" | "causationId" | "correlationId">) =>
      events.push({ ...e, correlationId, causationId: ctx.requestId, actor: ctx.actor });

    // The customer: complete what the account lacked.
    const customerPatch: Partial<typeof customer.$inferInsert> = {};
    if (!cust.legalEntityId) customerPatch.legalEntityId = entity.id;
    if (!cust.taxJurisdiction) customerPatch.taxJurisdiction = jurisdiction;
    let updatedCustomer = cust;
    if (Object.keys(customerPatch).length > 0) {
      [updatedCustomer] = (await tx
        .update(customer)
        .set({ ...customerPatch, version: sql`${customer.version} + 1`, updatedAt: sql`now()` })
        .where(eq(customer.id, cust.id))
        .returning()) as [typeof customer.$inferSelect];
      event({
        type: "customer.updated",
        entityType: "customer",
        entityId: cust.id,
        payload: { fields: Object.keys(customerPatch) },
      });
    }

    const suffix = opp.id.replaceAll("-", "").slice(0, 12).toUpperCase();
    const [newContract] = await tx
      .insert(contract)
      .values({
        number: `CT-${suffix}`,
        customerId: cust.id,
        opportunityId: opp.id,
        legalEntityId: entity.id,
        billingModel: opp.billingModel,
        totalValue: opp.amount,
        currency: opp.currency,
        retainerAmount: opp.billingModel === "RETAINER" ? opp.retainerAmount : null,
        retainerHours: opp.billingModel === "RETAINER" ? opp.retainerHours : null,
        retainerProration: opp.retainerProration ?? "NONE",
        startDate: opp.startDate,
        endDate: opp.endDate,
        paymentTermsDays,
        correlationId,
      })
      .returning();
    const [newProject] = await tx
      .insert(project)
      .values({
        code: `PRJ-${suffix}`,
        name: opp.name,
        contractId: newContract!.id,
        customerId: cust.id,
        budgetHours: opp.budgetHours,
        budgetAmount: opp.amount,
        currency: opp.currency,
        startDate: opp.startDate,
        endDate: opp.endDate,
        correlationId,
      })
      .returning();

    // Instalments split the amount in SQL numeric: n - 1 equal parts truncated to cents, the last
    // takes the remainder, so they always add up to the amount exactly.
    const part = (i: unknown) =>
      sql`case when ${i} < ${installments} then trunc(${opp.amount}::numeric / ${installments}, 2)
        else ${opp.amount}::numeric - trunc(${opp.amount}::numeric / ${installments}, 2) * (${installments} - 1) end`;
    if (opp.billingModel === "MILESTONE") {
      // Due dates spread evenly to the end date (or monthly when open-ended).
      await tx.execute(sql`
        insert into ${milestone} (project_id, name, amount, currency, due_date)
        select ${newProject!.id}, 'Milestone ' || i || ' of ' || ${installments}, ${part(sql`i`)}, ${opp.currency},
          case when ${opp.endDate}::date is null then (${opp.startDate}::date + make_interval(months => i))::date
               else ${opp.startDate}::date + ((${opp.endDate}::date - ${opp.startDate}::date) * i) / ${installments} end
        from generate_series(1, ${installments}) as i`);
    } else if (opp.billingModel === "FIXED_FEE") {
      // Instalments due monthly from the start date.
      await tx.execute(sql`
        insert into ${feeScheduleItem} (contract_id, description, due_date, amount, currency)
        select ${newContract!.id}, 'Instalment ' || i || ' of ' || ${installments},
          (${opp.startDate}::date + make_interval(months => i - 1))::date, ${part(sql`i`)}, ${opp.currency}
        from generate_series(1, ${installments}) as i`);
    }

    const [convertedOpp] = await tx
      .update(opportunity)
      .set({
        convertedAt: sql`now()`,
        version: sql`${opportunity.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(eq(opportunity.id, opp.id))
      .returning();

    event({
      type: "opportunity.converted",
      entityType: "opportunity",
      entityId: opp.id,
      payload: {
        from: "CLOSED_WON",
        to: "CONVERTED",
        customerId: cust.id,
        contractId: newContract!.id,
        projectId: newProject!.id,
        billingModel: opp.billingModel,
      },
    });
    event({
      type: "contract.created",
      entityType: "contract",
      entityId: newContract!.id,
      payload: {
        opportunityId: opp.id,
        billingModel: opp.billingModel,
        totalValue: opp.amount,
        currency: opp.currency,
      },
    });
    event({
      type: "project.created",
      entityType: "project",
      entityId: newProject!.id,
      payload: { contractId: newContract!.id, customerId: cust.id },
    });
    await emitDomainEvents(tx, events);
    await enqueueCommands(
      tx,
      conversionCommands({
        opportunityId: opp.id,
        customerId: cust.id,
        projectId: newProject!.id,
        correlationId: newContract!.correlationId,
      }),
    );
    return {
      opportunity: convertedOpp!,
      customer: updatedCustomer,
      contract: newContract!,
      project: newProject!,
    };
  },
  auditRef: (input, result) => ({
    entityType: "opportunity",
    entityId: input.opportunityId,
    correlationId: result?.contract.correlationId,
  }),
});

type Ancestor = {
  id: string;
  name: string;
  status: string;
  cycle: boolean;
};

/** The customer's ancestors, nearest first; a loop is reported once, at the repeated account. */
async function accountAncestors(tx: Tx, customerId: string): Promise<Ancestor[]> {
  const rows = await tx.execute<Ancestor>(sql`
    with recursive up(id, name, status, path, cycle, depth) as (
      select c.parent_id, p.name, p.status::text, array[c.id], false, 1
      from ${customer} c left join ${customer} p on p.id = c.parent_id
      where c.id = ${customerId} and c.parent_id is not null
      union all
      select c.parent_id, p.name, p.status::text, up.path || up.id, c.parent_id = any(up.path || up.id), up.depth + 1
      from up join ${customer} c on c.id = up.id left join ${customer} p on p.id = c.parent_id
      where c.parent_id is not null and not up.cycle and up.depth < 50
    )
    select id, coalesce(name, '(missing)') as name, coalesce(status, 'INACTIVE') as status, cycle from up`);
  return [...rows];
}
