/**
 * Certinia PSA field maps (the pse__ fields as Certinia names them), one place per object;
 * overridable through SALESFORCE_FIELD_MAP like the CRM maps (same org, same configuration).
 */
import type { FieldMaps, ValueMaps } from "../salesforce/field-map.ts";

export const CERTINIA_FIELD_MAPS: FieldMaps = {
  /** Contacts with pse__Is_Resource__c are resources (read from the Contact object). */
  Resource: {
    isResource: "pse__Is_Resource__c",
    email: "Email",
    role: "pse__Resource_Role__c",
    billRate: "Default_Bill_Rate__c",
    costRate: "pse__Default_Cost_Rate__c",
    currency: "CurrencyIsoCode",
    active: "pse__Is_Resource_Active__c",
  },
  pse__Proj__c: {
    name: "Name",
    code: "pse__Project_ID__c",
    stage: "pse__Stage__c",
    startDate: "pse__Start_Date__c",
    endDate: "pse__End_Date__c",
    budgetHours: "pse__Planned_Hours__c",
  },
  pse__Milestone__c: {
    projectId: "pse__Project__c",
    name: "Name",
    amount: "pse__Milestone_Amount__c",
    currency: "CurrencyIsoCode",
    dueDate: "pse__Target_Date__c",
    completedOn: "pse__Actual_Date__c",
    status: "pse__Status__c",
    approved: "pse__Approved__c",
  },
  pse__Assignment__c: {
    resourceId: "pse__Resource__c",
    projectId: "pse__Project__c",
    role: "pse__Role__c",
    billRateOverride: "pse__Bill_Rate__c",
    startDate: "pse__Start_Date__c",
    endDate: "pse__End_Date__c",
  },
  pse__Timecard_Header__c: {
    projectId: "pse__Project__c",
    resourceId: "pse__Resource__c",
    startDate: "pse__Start_Date__c",
    status: "pse__Status__c",
    billable: "pse__Billable__c",
    billRate: "pse__Bill_Rate__c",
    currency: "CurrencyIsoCode",
    description: "pse__Timecard_Notes__c",
    monday: "pse__Monday_Hours__c",
    tuesday: "pse__Tuesday_Hours__c",
    wednesday: "pse__Wednesday_Hours__c",
    thursday: "pse__Thursday_Hours__c",
    friday: "pse__Friday_Hours__c",
    saturday: "pse__Saturday_Hours__c",
    sunday: "pse__Sunday_Hours__c",
  },
  pse__Timecard__c: {
    header: "pse__Timecard_Header__c",
    totalHours: "pse__Total_Hours__c",
  },
  pse__Expense__c: {
    projectId: "pse__Project__c",
    resourceId: "pse__Resource__c",
    incurredOn: "pse__Expense_Date__c",
    amount: "pse__Amount__c",
    currency: "CurrencyIsoCode",
    category: "pse__Type__c",
    billable: "pse__Billable__c",
    description: "pse__Description__c",
    status: "pse__Status__c",
  },
};

export const CERTINIA_VALUE_MAPS: ValueMaps = {
  "pse__Proj__c.stage": {
    Planned: "PLANNED",
    "In Progress": "ACTIVE",
    "On Hold": "ON_HOLD",
    Completed: "COMPLETED",
    Closed: "CLOSED",
    Canceled: "CLOSED",
  },
  "pse__Milestone__c.status": {
    Planned: "OPEN",
    Open: "OPEN",
    Complete: "COMPLETED",
    Completed: "COMPLETED",
    Approved: "APPROVED",
  },
  /** Saved / Draft work is not submitted yet: not tracked until it is. */
  "pse__Timecard_Header__c.status": {
    Saved: "DRAFT",
    Submitted: "SUBMITTED",
    Approved: "APPROVED",
    Rejected: "REJECTED",
  },
  "pse__Expense__c.status": {
    Draft: "DRAFT",
    Submitted: "SUBMITTED",
    Approved: "APPROVED",
    Rejected: "REJECTED",
  },
};
