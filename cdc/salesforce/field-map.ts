/**
 * Field maps: which source field feeds which canonical field, one place per object. Real orgs
 * name their custom fields differently, so every entry can be overridden by configuration
 * (SALESFORCE_FIELD_MAP: a JSON file path or inline JSON), e.g.
 *
 *   { "Opportunity": { "billingModel": "Billing_Type__c" }, "Account": { "status": null } }
 *
 * A null entry turns the field off. At start every mapped field is checked with describe: a
 * missing one is an error naming the object and the field.
 *
 * Value maps (picklist values → canonical enums) are part of the same configuration under
 * "values", e.g. { "values": { "Opportunity.stage": { "Closed - Signed": "CLOSED_WON" } } }.
 */
import { readFileSync } from "node:fs";

/** canonical field → source field API name (null: not mapped). */
export type ObjectFieldMap = Record<string, string | null>;
export type FieldMaps = Record<string, ObjectFieldMap>;
export type ValueMaps = Record<string, Record<string, string>>;

export interface MappingConfig {
  fields: FieldMaps;
  values: ValueMaps;
}

/** Salesforce (CRM) objects. */
export const SALESFORCE_FIELD_MAPS: FieldMaps = {
  Account: {
    name: "Name",
    parentId: "ParentId",
    legalEntity: "Legal_Entity__c",
    taxJurisdiction: "Tax_Jurisdiction__c",
    currency: "CurrencyIsoCode",
    billingContactName: "Billing_Contact_Name__c",
    billingEmail: "Billing_Email__c",
    status: "Status__c",
  },
  Contact: {
    customerId: "AccountId",
    firstName: "FirstName",
    lastName: "LastName",
    email: "Email",
    phone: "Phone",
    title: "Title",
    isBillingContact: "Billing_Contact__c",
  },
  Opportunity: {
    customerId: "AccountId",
    name: "Name",
    stage: "StageName",
    amount: "Amount",
    currency: "CurrencyIsoCode",
    closeDate: "CloseDate",
    billingModel: "Billing_Model__c",
    legalEntity: "Legal_Entity__c",
    taxJurisdiction: "Tax_Jurisdiction__c",
    contractType: "Contract_Type__c",
    startDate: "Start_Date__c",
    endDate: "End_Date__c",
    paymentTermsDays: "Payment_Terms__c",
    retainerAmount: "Retainer_Amount__c",
    retainerHours: "Retainer_Hours__c",
    budgetHours: "Budget_Hours__c",
    installments: "Installments__c",
  },
  Contract: {
    number: "ContractNumber",
    customerId: "AccountId",
    opportunityId: "Opportunity__c",
    status: "Status",
    startDate: "StartDate",
    endDate: "EndDate",
    contractType: "Contract_Type__c",
    billingModel: "Billing_Model__c",
    legalEntity: "Legal_Entity__c",
    totalValue: "Contract_Value__c",
    paymentTermsDays: "Payment_Terms__c",
    currency: "CurrencyIsoCode",
  },
};

export const SALESFORCE_VALUE_MAPS: ValueMaps = {
  "Opportunity.stage": {
    Prospecting: "PROSPECTING",
    Qualification: "QUALIFICATION",
    "Needs Analysis": "QUALIFICATION",
    "Value Proposition": "PROPOSAL",
    "Proposal/Price Quote": "PROPOSAL",
    "Negotiation/Review": "NEGOTIATION",
    "Closed Won": "CLOSED_WON",
    "Closed Lost": "CLOSED_LOST",
  },
  billingModel: {
    "Time and Materials": "TIME_AND_MATERIALS",
    "Time & Materials": "TIME_AND_MATERIALS",
    "Fixed Fee": "FIXED_FEE",
    Retainer: "RETAINER",
    Milestone: "MILESTONE",
  },
  "Account.status": { Active: "ACTIVE", "On Hold": "ON_HOLD", Inactive: "INACTIVE" },
  "Contract.status": {
    Draft: "DRAFT",
    "In Approval Process": "DRAFT",
    Activated: "ACTIVE",
    Expired: "COMPLETED",
    Terminated: "TERMINATED",
  },
  contractType: { Services: "Services", Subscription: "Subscription" },
};

/** Merges an override ({ fields per object, "values" }) over defaults. */
export function mergeMapping(
  defaults: MappingConfig,
  override: Record<string, unknown> | undefined,
): MappingConfig {
  const fields: FieldMaps = Object.fromEntries(
    Object.entries(defaults.fields).map(([o, m]) => [o, { ...m }]),
  );
  const values: ValueMaps = Object.fromEntries(
    Object.entries(defaults.values).map(([k, m]) => [k, { ...m }]),
  );
  for (const [key, value] of Object.entries(override ?? {})) {
    if (key === "values") {
      for (const [vk, vm] of Object.entries((value ?? {}) as ValueMaps)) {
        values[vk] = { ...(values[vk] ?? {}), ...vm };
      }
    } else if (fields[key]) {
      for (const [canonical, source] of Object.entries((value ?? {}) as ObjectFieldMap)) {
        if (!(canonical in fields[key]!)) {
          throw new Error(
            `field map override ${key}.${canonical}: unknown canonical field (known: ${Object.keys(fields[key]!).join(", ")})`,
          );
        }
        if (source !== null && typeof source !== "string") {
          throw new Error(`field map override ${key}.${canonical}: must be a field name or null`);
        }
        fields[key]![canonical] = source;
      }
    }
  }
  return { fields, values };
}

/** Reads SALESFORCE_FIELD_MAP's value: inline JSON (starts with "{") or a path to a JSON file. */
export function loadMappingOverride(
  value: string | undefined,
): Record<string, unknown> | undefined {
  if (!value) return undefined;
  const text = value.trim().startsWith("{") ? value : readFileSync(value, "utf8");
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`SALESFORCE_FIELD_MAP is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Write-back (cdc/outbound): canonical value → the field pshub writes, per object (null: not
 * written). Salesforce: an invoice's status and the billed / paid totals on its Opportunity and
 * Account; the PSA (Certinia, same org): the project structure pshub creates (by the external id
 * field `hubId`) and the invoiced flags of billed timecards, expenses and milestones.
 */
export const WRITE_BACK_FIELD_MAPS: FieldMaps = {
  Opportunity: {
    invoiceStatus: "Invoice_Status__c",
    lastInvoiceNumber: "Last_Invoice_Number__c",
    billedAmount: "Billed_Amount__c",
    paidAmount: "Paid_Amount__c",
  },
  Account: { billedAmount: "Billed_Amount__c", paidAmount: "Paid_Amount__c" },
  pse__Proj__c: {
    hubId: "Pshub_Id__c",
    name: "Name",
    accountId: "pse__Account__c",
    opportunityId: "pse__Opportunity__c",
    stage: "pse__Stage__c",
    startDate: "pse__Start_Date__c",
    endDate: "pse__End_Date__c",
    budgetHours: "pse__Planned_Hours__c",
    currency: "CurrencyIsoCode",
  },
  pse__Milestone__c: {
    hubId: "Pshub_Id__c",
    name: "Name",
    amount: "pse__Milestone_Amount__c",
    currency: "CurrencyIsoCode",
    dueDate: "pse__Target_Date__c",
    invoiced: "pse__Invoiced__c",
    invoiceNumber: "pse__Invoice_Number__c",
  },
  pse__Timecard_Header__c: {
    invoiced: "pse__Invoiced__c",
    invoiceNumber: "pse__Invoice_Number__c",
  },
  pse__Expense__c: { invoiced: "pse__Invoiced__c", invoiceNumber: "pse__Invoice_Number__c" },
};
