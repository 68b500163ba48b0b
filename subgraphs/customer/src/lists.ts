/**
 * How each customer-subgraph table is listed: sort fields (GraphQL enum value → NOT NULL column)
 * and filters (GraphQL filter input → SQL). Used by top-level lists and nested connections alike.
 */
import { contact, contract, customer, legalEntity, opportunity, taxRate } from "@pshub/db/schema";
import {
  anyOf,
  atLeast,
  atMost,
  containsText,
  equals,
  equalsId,
  type ListSpec,
  present,
} from "@pshub/subgraph-kit";
import { and, ilike, isNotNull, isNull, or } from "drizzle-orm";
import type {
  ContactFilter,
  ContractFilter,
  CustomerFilter,
  LegalEntityFilter,
  OpportunityFilter,
  TaxRateFilter,
} from "./__generated__/resolvers-types.ts";

export const customerList: ListSpec<typeof customer, CustomerFilter> = {
  name: "Customer",
  table: customer,
  id: customer.id,
  orderFields: {
    NAME: customer.name,
    CREATED_AT: customer.createdAt,
    UPDATED_AT: customer.updatedAt,
  },
  defaultOrder: { field: "NAME", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(customer.status, f.status),
      anyOf(customer.currency, f.currency),
      equalsId(customer.legalEntityId, f.legalEntityId, "filter.legalEntityId"),
      equalsId(customer.parentId, f.parentId, "filter.parentId"),
      f.topLevel == null
        ? undefined
        : f.topLevel
          ? isNull(customer.parentId)
          : isNotNull(customer.parentId),
      containsText(customer.name, f.nameContains),
      atLeast(customer.updatedAt, f.updatedSince),
    ),
};

export const contactList: ListSpec<typeof contact, ContactFilter> = {
  name: "Contact",
  table: contact,
  id: contact.id,
  orderFields: { NAME: contact.name, CREATED_AT: contact.createdAt, UPDATED_AT: contact.updatedAt },
  defaultOrder: { field: "NAME", direction: "ASC" },
  where: (f) =>
    and(
      equalsId(contact.customerId, f.customerId, "filter.customerId"),
      equals(contact.isBillingContact, f.isBillingContact),
      f.search
        ? or(containsText(contact.name, f.search), containsText(contact.email, f.search))
        : undefined,
      atLeast(contact.updatedAt, f.updatedSince),
    ),
};

export const opportunityList: ListSpec<typeof opportunity, OpportunityFilter> = {
  name: "Opportunity",
  table: opportunity,
  id: opportunity.id,
  orderFields: {
    NAME: opportunity.name,
    CLOSE_DATE: opportunity.closeDate,
    AMOUNT: opportunity.amount,
    CREATED_AT: opportunity.createdAt,
    UPDATED_AT: opportunity.updatedAt,
  },
  defaultOrder: { field: "CLOSE_DATE", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(opportunity.stage, f.stage),
      equalsId(opportunity.customerId, f.customerId, "filter.customerId"),
      anyOf(opportunity.currency, f.currency),
      equalsId(opportunity.legalEntityId, f.legalEntityId, "filter.legalEntityId"),
      equals(opportunity.isWon, f.isWon),
      present(opportunity.convertedAt, f.converted),
      atLeast(opportunity.closeDate, f.closeDateFrom),
      atMost(opportunity.closeDate, f.closeDateTo),
      atLeast(opportunity.updatedAt, f.updatedSince),
    ),
};

export const contractList: ListSpec<typeof contract, ContractFilter> = {
  name: "Contract",
  table: contract,
  id: contract.id,
  orderFields: {
    NUMBER: contract.number,
    START_DATE: contract.startDate,
    TOTAL_VALUE: contract.totalValue,
    CREATED_AT: contract.createdAt,
    UPDATED_AT: contract.updatedAt,
  },
  defaultOrder: { field: "NUMBER", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(contract.status, f.status),
      anyOf(contract.billingModel, f.billingModel),
      equalsId(contract.customerId, f.customerId, "filter.customerId"),
      anyOf(contract.currency, f.currency),
      equalsId(contract.legalEntityId, f.legalEntityId, "filter.legalEntityId"),
      atLeast(contract.startDate, f.startDateFrom),
      atMost(contract.startDate, f.startDateTo),
      atLeast(contract.updatedAt, f.updatedSince),
    ),
};

export const legalEntityList: ListSpec<typeof legalEntity, LegalEntityFilter> = {
  name: "LegalEntity",
  table: legalEntity,
  id: legalEntity.id,
  orderFields: { CODE: legalEntity.code, NAME: legalEntity.name },
  defaultOrder: { field: "CODE", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(legalEntity.currency, f.currency),
      f.country == null ? undefined : or(...f.country.map((c) => ilike(legalEntity.country, c))),
    ),
};

export const taxRateList: ListSpec<typeof taxRate, TaxRateFilter> = {
  name: "TaxRate",
  table: taxRate,
  id: taxRate.id,
  orderFields: { JURISDICTION: taxRate.jurisdiction, VALID_FROM: taxRate.validFrom },
  defaultOrder: { field: "VALID_FROM", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(taxRate.jurisdiction, f.jurisdiction),
      atLeast(taxRate.validFrom, f.validFromFrom),
      atMost(taxRate.validFrom, f.validFromTo),
    ),
};
