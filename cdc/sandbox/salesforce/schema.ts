/**
 * The sandbox org's objects and fields, as `describe` reports them (Salesforce field types:
 * id, string, reference, picklist, boolean, currency, double, int, percent, date, datetime,
 * textarea, email, phone). Standard objects carry the system fields every sObject has.
 */

type FieldType =
  | "id"
  | "string"
  | "reference"
  | "picklist"
  | "boolean"
  | "currency"
  | "double"
  | "int"
  | "percent"
  | "date"
  | "datetime"
  | "textarea"
  | "email"
  | "phone";

export interface FieldDef {
  name: string;
  type: FieldType;
  label?: string;
  referenceTo?: string[];
  picklist?: string[];
  /** Not writable through the API (system fields, formulas). */
  readOnly?: boolean;
  /** An External ID field: upserts address records by it (PATCH …/{field}/{value}). */
  externalId?: boolean;
}

export interface ObjectDef {
  name: string;
  label: string;
  keyPrefix: string;
  custom: boolean;
  fields: FieldDef[];
  /** Change Data Capture is enabled for the object. */
  cdc: boolean;
}

const system = (): FieldDef[] => [
  { name: "Id", type: "id", readOnly: true },
  { name: "IsDeleted", type: "boolean", readOnly: true },
  { name: "CreatedDate", type: "datetime", readOnly: true },
  { name: "CreatedById", type: "reference", referenceTo: ["User"], readOnly: true },
  { name: "LastModifiedDate", type: "datetime", readOnly: true },
  { name: "LastModifiedById", type: "reference", referenceTo: ["User"], readOnly: true },
  { name: "SystemModstamp", type: "datetime", readOnly: true },
];

const ref = (name: string, to: string): FieldDef => ({
  name,
  type: "reference",
  referenceTo: [to],
});
const currencyCode = (): FieldDef => ({
  name: "CurrencyIsoCode",
  type: "picklist",
  picklist: ["USD", "GBP", "EUR"],
});

export const OBJECTS: ObjectDef[] = [
  {
    name: "User",
    label: "User",
    keyPrefix: "005",
    custom: false,
    cdc: false,
    fields: [...system(), { name: "Name", type: "string" }, { name: "Username", type: "string" }],
  },
  {
    name: "Account",
    label: "Account",
    keyPrefix: "001",
    custom: false,
    cdc: true,
    fields: [
      ...system(),
      { name: "Name", type: "string" },
      ref("ParentId", "Account"),
      { name: "Legal_Entity__c", type: "string" },
      { name: "Tax_Jurisdiction__c", type: "string" },
      currencyCode(),
      { name: "Billing_Contact_Name__c", type: "string" },
      { name: "Billing_Email__c", type: "email" },
      { name: "Status__c", type: "picklist", picklist: ["Active", "On Hold", "Inactive"] },
      // Written back by pshub (its invoices' billed and paid totals).
      { name: "Billed_Amount__c", type: "currency" },
      { name: "Paid_Amount__c", type: "currency" },
    ],
  },
  {
    name: "Contact",
    label: "Contact",
    keyPrefix: "003",
    custom: false,
    cdc: true,
    fields: [
      ...system(),
      ref("AccountId", "Account"),
      { name: "FirstName", type: "string" },
      { name: "LastName", type: "string" },
      { name: "Name", type: "string", readOnly: true },
      { name: "Email", type: "email" },
      { name: "Phone", type: "phone" },
      { name: "Title", type: "string" },
      { name: "Billing_Contact__c", type: "boolean" },
      currencyCode(),
      { name: "pse__Is_Resource__c", type: "boolean" },
      { name: "pse__Is_Resource_Active__c", type: "boolean" },
      { name: "pse__Resource_Role__c", type: "picklist" },
      { name: "pse__Default_Cost_Rate__c", type: "currency" },
      { name: "Default_Bill_Rate__c", type: "currency" },
    ],
  },
  {
    name: "Opportunity",
    label: "Opportunity",
    keyPrefix: "006",
    custom: false,
    cdc: true,
    fields: [
      ...system(),
      ref("AccountId", "Account"),
      { name: "Name", type: "string" },
      {
        name: "StageName",
        type: "picklist",
        picklist: [
          "Prospecting",
          "Qualification",
          "Proposal/Price Quote",
          "Negotiation/Review",
          "Closed Won",
          "Closed Lost",
        ],
      },
      { name: "Amount", type: "currency" },
      currencyCode(),
      { name: "CloseDate", type: "date" },
      { name: "IsWon", type: "boolean", readOnly: true },
      { name: "IsClosed", type: "boolean", readOnly: true },
      {
        name: "Billing_Model__c",
        type: "picklist",
        picklist: ["Time and Materials", "Fixed Fee", "Retainer", "Milestone"],
      },
      { name: "Legal_Entity__c", type: "string" },
      { name: "Tax_Jurisdiction__c", type: "string" },
      { name: "Contract_Type__c", type: "picklist", picklist: ["Services", "Subscription"] },
      { name: "Start_Date__c", type: "date" },
      { name: "End_Date__c", type: "date" },
      { name: "Payment_Terms__c", type: "int" },
      { name: "Retainer_Amount__c", type: "currency" },
      { name: "Retainer_Hours__c", type: "double" },
      { name: "Budget_Hours__c", type: "double" },
      { name: "Installments__c", type: "int" },
      // Written back by pshub: the latest invoice's status and the opportunity's billed / paid totals.
      { name: "Invoice_Status__c", type: "string" },
      { name: "Last_Invoice_Number__c", type: "string" },
      { name: "Billed_Amount__c", type: "currency" },
      { name: "Paid_Amount__c", type: "currency" },
    ],
  },
  {
    name: "Contract",
    label: "Contract",
    keyPrefix: "800",
    custom: false,
    cdc: true,
    fields: [
      ...system(),
      ref("AccountId", "Account"),
      { name: "ContractNumber", type: "string", readOnly: true },
      {
        name: "Status",
        type: "picklist",
        picklist: ["Draft", "In Approval Process", "Activated", "Expired", "Terminated"],
      },
      { name: "StartDate", type: "date" },
      { name: "EndDate", type: "date" },
      { name: "ContractTerm", type: "int" },
      ref("Opportunity__c", "Opportunity"),
      { name: "Contract_Type__c", type: "picklist", picklist: ["Services", "Subscription"] },
      { name: "Billing_Model__c", type: "picklist" },
      { name: "Legal_Entity__c", type: "string" },
      { name: "Contract_Value__c", type: "currency" },
      { name: "Payment_Terms__c", type: "int" },
      currencyCode(),
    ],
  },
  {
    name: "pse__Proj__c",
    label: "Project",
    keyPrefix: "a0P",
    custom: true,
    cdc: true,
    fields: [
      ...system(),
      { name: "Name", type: "string" },
      ref("pse__Account__c", "Account"),
      ref("pse__Opportunity__c", "Opportunity"),
      { name: "pse__Project_ID__c", type: "string" },
      {
        name: "pse__Stage__c",
        type: "picklist",
        picklist: ["Planned", "In Progress", "On Hold", "Completed", "Closed", "Canceled"],
      },
      { name: "pse__Is_Active__c", type: "boolean" },
      { name: "pse__Start_Date__c", type: "date" },
      { name: "pse__End_Date__c", type: "date" },
      { name: "pse__Planned_Hours__c", type: "double" },
      { name: "pse__Billing_Type__c", type: "picklist" },
      { name: "Pshub_Id__c", type: "string", externalId: true },
      currencyCode(),
    ],
  },
  {
    name: "pse__Milestone__c",
    label: "Milestone",
    keyPrefix: "a0M",
    custom: true,
    cdc: true,
    fields: [
      ...system(),
      { name: "Name", type: "string" },
      ref("pse__Project__c", "pse__Proj__c"),
      { name: "pse__Milestone_Amount__c", type: "currency" },
      { name: "pse__Target_Date__c", type: "date" },
      { name: "pse__Actual_Date__c", type: "date" },
      {
        name: "pse__Status__c",
        type: "picklist",
        picklist: ["Planned", "Open", "Complete", "Approved", "Canceled"],
      },
      { name: "pse__Approved__c", type: "boolean" },
      { name: "Pshub_Id__c", type: "string", externalId: true },
      { name: "pse__Invoiced__c", type: "boolean" },
      { name: "pse__Invoice_Number__c", type: "string" },
      currencyCode(),
    ],
  },
  {
    name: "pse__Assignment__c",
    label: "Assignment",
    keyPrefix: "a0A",
    custom: true,
    cdc: true,
    fields: [
      ...system(),
      { name: "Name", type: "string" },
      ref("pse__Resource__c", "Contact"),
      ref("pse__Project__c", "pse__Proj__c"),
      { name: "pse__Role__c", type: "picklist" },
      { name: "pse__Bill_Rate__c", type: "currency" },
      { name: "pse__Start_Date__c", type: "date" },
      { name: "pse__End_Date__c", type: "date" },
      currencyCode(),
    ],
  },
  {
    name: "pse__Timecard_Header__c",
    label: "Timecard",
    keyPrefix: "a0T",
    custom: true,
    cdc: true,
    fields: [
      ...system(),
      { name: "Name", type: "string", readOnly: true },
      ref("pse__Project__c", "pse__Proj__c"),
      ref("pse__Resource__c", "Contact"),
      ref("pse__Assignment__c", "pse__Assignment__c"),
      ref("pse__Milestone__c", "pse__Milestone__c"),
      { name: "pse__Start_Date__c", type: "date" },
      { name: "pse__End_Date__c", type: "date" },
      {
        name: "pse__Status__c",
        type: "picklist",
        picklist: ["Saved", "Submitted", "Approved", "Rejected"],
      },
      { name: "pse__Approved__c", type: "boolean" },
      { name: "pse__Billable__c", type: "boolean" },
      { name: "pse__Monday_Hours__c", type: "double" },
      { name: "pse__Tuesday_Hours__c", type: "double" },
      { name: "pse__Wednesday_Hours__c", type: "double" },
      { name: "pse__Thursday_Hours__c", type: "double" },
      { name: "pse__Friday_Hours__c", type: "double" },
      { name: "pse__Saturday_Hours__c", type: "double" },
      { name: "pse__Sunday_Hours__c", type: "double" },
      { name: "pse__Total_Hours__c", type: "double", readOnly: true },
      { name: "pse__Bill_Rate__c", type: "currency" },
      { name: "pse__Timecard_Notes__c", type: "textarea" },
      { name: "pse__Invoiced__c", type: "boolean" },
      { name: "pse__Invoice_Number__c", type: "string" },
      currencyCode(),
    ],
  },
  {
    name: "pse__Timecard__c",
    label: "Timecard Split",
    keyPrefix: "a0S",
    custom: true,
    cdc: true,
    fields: [
      ...system(),
      { name: "Name", type: "string", readOnly: true },
      ref("pse__Timecard_Header__c", "pse__Timecard_Header__c"),
      ref("pse__Project__c", "pse__Proj__c"),
      ref("pse__Resource__c", "Contact"),
      { name: "pse__Start_Date__c", type: "date" },
      { name: "pse__End_Date__c", type: "date" },
      { name: "pse__Total_Hours__c", type: "double" },
      { name: "pse__Billable__c", type: "boolean" },
      { name: "pse__Status__c", type: "picklist" },
      { name: "pse__Approved__c", type: "boolean" },
    ],
  },
  {
    name: "pse__Expense__c",
    label: "Expense",
    keyPrefix: "a0E",
    custom: true,
    cdc: true,
    fields: [
      ...system(),
      { name: "Name", type: "string", readOnly: true },
      ref("pse__Project__c", "pse__Proj__c"),
      ref("pse__Resource__c", "Contact"),
      { name: "pse__Amount__c", type: "currency" },
      { name: "pse__Expense_Date__c", type: "date" },
      { name: "pse__Type__c", type: "picklist" },
      { name: "pse__Billable__c", type: "boolean" },
      {
        name: "pse__Status__c",
        type: "picklist",
        picklist: ["Draft", "Submitted", "Approved", "Rejected"],
      },
      { name: "pse__Approved__c", type: "boolean" },
      { name: "pse__Description__c", type: "textarea" },
      { name: "pse__Invoiced__c", type: "boolean" },
      { name: "pse__Invoice_Number__c", type: "string" },
      currencyCode(),
    ],
  },
];

const OBJECT_BY_NAME = new Map(OBJECTS.map((o) => [o.name.toLowerCase(), o]));

export function findObject(name: string): ObjectDef | undefined {
  return OBJECT_BY_NAME.get(name.toLowerCase());
}

/** The change event entity of an object: AccountChangeEvent, pse__Proj__ChangeEvent. */
export function changeEventName(object: string): string {
  return object.endsWith("__c") ? `${object.slice(0, -3)}__ChangeEvent` : `${object}ChangeEvent`;
}
