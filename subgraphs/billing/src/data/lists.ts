/**
 * How billing's tables are listed (Relay connections): sort fields and filters. Ties are broken by
 * id; every sort column is NOT NULL so keyset cursors stay exact.
 */

import { billingEvent, contract, feeScheduleItem } from "@pshub/db/schema";
import { assertUuid, type ListSpec } from "@pshub/subgraph-kit";
import { and, gte, inArray, lt, lte, sql } from "drizzle-orm";
import type {
  BillingEventFilter,
  BillingRuleFilter,
  FeeScheduleItemFilter,
} from "../__generated__/resolvers-types.ts";
import { currencyArg } from "./sql-util.ts";

export type BillingEventFilterInput = BillingEventFilter;

export const billingEventList: ListSpec<typeof billingEvent, BillingEventFilterInput> = {
  name: "BillingEvent",
  table: billingEvent,
  id: billingEvent.id,
  orderFields: {
    CREATED_AT: billingEvent.createdAt,
    AMOUNT: billingEvent.amount,
    PERIOD: billingEvent.period,
  },
  defaultOrder: { field: "CREATED_AT", direction: "ASC" },
  where: (f) =>
    and(
      f.status ? inArray(billingEvent.status, [...f.status]) : undefined,
      f.sourceType ? inArray(billingEvent.sourceType, [...f.sourceType]) : undefined,
      f.customerId
        ? sql`${billingEvent.customerId} = ${assertUuid(f.customerId, "filter.customerId")}`
        : undefined,
      f.contractId
        ? sql`${billingEvent.contractId} = ${assertUuid(f.contractId, "filter.contractId")}`
        : undefined,
      f.projectId
        ? sql`${billingEvent.projectId} = ${assertUuid(f.projectId, "filter.projectId")}`
        : undefined,
      f.legalEntityId
        ? sql`${billingEvent.contractId} in (select ${contract.id} from ${contract} where ${contract.legalEntityId} = ${assertUuid(f.legalEntityId, "filter.legalEntityId")})`
        : undefined,
      f.currency
        ? sql`${billingEvent.currency} = ${currencyArg("filter.currency", f.currency)}`
        : undefined,
      f.period != null ? sql`${billingEvent.period} = ${f.period}` : undefined,
      f.createdFrom ? gte(billingEvent.createdAt, f.createdFrom) : undefined,
      f.createdTo ? lt(billingEvent.createdAt, f.createdTo) : undefined,
    ),
};

export type BillingRuleFilterInput = BillingRuleFilter;

/** A billing rule per contract, so this lists contracts. */
export const billingRuleList: ListSpec<typeof contract, BillingRuleFilterInput> = {
  name: "BillingRule",
  table: contract,
  id: contract.id,
  orderFields: { CONTRACT_ID: contract.id },
  defaultOrder: { field: "CONTRACT_ID", direction: "ASC" },
  where: (f) =>
    and(
      f.billingModel ? inArray(contract.billingModel, [...f.billingModel]) : undefined,
      f.customerId
        ? sql`${contract.customerId} = ${assertUuid(f.customerId, "filter.customerId")}`
        : undefined,
      f.legalEntityId
        ? sql`${contract.legalEntityId} = ${assertUuid(f.legalEntityId, "filter.legalEntityId")}`
        : undefined,
      f.currency
        ? sql`${contract.currency} = ${currencyArg("filter.currency", f.currency)}`
        : undefined,
    ),
};

export const feeScheduleItemList: ListSpec<typeof feeScheduleItem, FeeScheduleItemFilter> = {
  name: "FeeScheduleItem",
  table: feeScheduleItem,
  id: feeScheduleItem.id,
  orderFields: { DUE_DATE: feeScheduleItem.dueDate },
  defaultOrder: { field: "DUE_DATE", direction: "ASC" },
  where: (f) =>
    and(
      f.contractId
        ? sql`${feeScheduleItem.contractId} = ${assertUuid(f.contractId, "filter.contractId")}`
        : undefined,
      f.status ? inArray(feeScheduleItem.status, [...f.status]) : undefined,
      f.dueFrom ? gte(feeScheduleItem.dueDate, f.dueFrom) : undefined,
      f.dueTo ? lte(feeScheduleItem.dueDate, f.dueTo) : undefined,
      f.currency
        ? sql`${feeScheduleItem.currency} = ${currencyArg("filter.currency", f.currency)}`
        : undefined,
    ),
};
