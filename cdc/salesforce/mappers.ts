/**
 * Salesforce CRM objects → canonical changes: Account → customer (ParentId hierarchy), Contact →
 * contact (and, for a Certinia resource, a resource), Opportunity → opportunity, Contract →
 * contract. Field names come from the field map (./field-map.ts), never from here.
 */
import type { CanonicalChange, Mapper, ParentRef } from "../engine/types.ts";
import {
  defineMapper,
  FieldProblem,
  type MapperContext,
  type RecordReader,
  required,
} from "./mapping.ts";
import { bool, date, decimal, integer, text } from "./values.ts";

const change = (
  r: RecordReader,
  entityType: CanonicalChange["entityType"],
  fields: Record<string, unknown>,
  parents: ParentRef[] = [],
  extra: Partial<CanonicalChange> = {},
): CanonicalChange => ({
  entityType,
  system: r.record.system,
  object: r.record.object,
  externalId: r.record.externalId,
  fields,
  parents,
  ...extra,
});

/** A parent reference from a mapped lookup field (absent when not sent or blank). */
export function parentRef(
  r: RecordReader,
  key: string,
  field: string,
  target: { system: ParentRef["system"]; object: string; entityType: ParentRef["entityType"] },
  parents: ParentRef[],
  fields: Record<string, unknown>,
  isRequired = true,
): void {
  if (!r.has(key)) return;
  const id = text(r.raw(key));
  if (id === null) {
    if (isRequired) required(r, key, null);
    fields[field] = null;
    return;
  }
  parents.push({ field, ...target, externalId: id, required: isRequired });
}

export function salesforceMappers(ctx: MapperContext): Mapper[] {
  const account = defineMapper(
    {
      system: "SALESFORCE",
      object: "Account",
      entityType: "customer",
      body(r) {
        const fields: Record<string, unknown> = {};
        const parents: ParentRef[] = [];
        if (r.has("name")) fields.name = required(r, "name", r.value("name", text));
        parentRef(
          r,
          "parentId",
          "parentId",
          { system: "SALESFORCE", object: "Account", entityType: "customer" },
          parents,
          fields,
          false,
        );
        // A set ParentId must resolve: the child waits for its parent.
        for (const p of parents) p.required = true;
        if (r.has("legalEntity")) fields.legalEntityId = r.legalEntity("legalEntity");
        r.put(fields, "taxJurisdiction", "taxJurisdiction", text);
        if (r.has("currency")) fields.currency = required(r, "currency", r.value("currency", text));
        r.put(fields, "billingContactName", "billingContactName", text);
        r.put(fields, "billingEmail", "billingEmail", text);
        if (r.has("status")) fields.status = r.picklist("status", "Account.status") ?? "ACTIVE";
        return [change(r, "customer", fields, parents)];
      },
    },
    ctx,
  );

  const contact = defineMapper(
    {
      system: "SALESFORCE",
      object: "Contact",
      entityType: "contact",
      extraFields: [],
      body(r) {
        const changes: CanonicalChange[] = [];
        const f = r.record.fields;
        const name = () => {
          const first = r.value("firstName", text);
          const last = r.value("lastName", text);
          return [first, last].filter((x) => x).join(" ") || null;
        };
        const nameSent = r.has("firstName") && r.has("lastName");
        const accountSent = r.has("customerId");
        const accountId = accountSent ? r.value("customerId", text) : undefined;
        if (accountId !== null) {
          const fields: Record<string, unknown> = {};
          const parents: ParentRef[] = [];
          if (accountId) {
            parents.push({
              field: "customerId",
              system: "SALESFORCE",
              object: "Account",
              externalId: accountId,
              entityType: "customer",
              required: true,
            });
          }
          if (nameSent) fields.name = required(r, "lastName", name());
          r.put(fields, "email", "email", text);
          r.put(fields, "phone", "phone", text);
          r.put(fields, "title", "title", text);
          if (r.has("isBillingContact"))
            fields.isBillingContact = r.value("isBillingContact", bool) ?? false;
          changes.push(change(r, "contact", fields, parents));
        }
        // Certinia: a Contact with pse__Is_Resource__c is a resource (owned by the PSA).
        const resourceMap = ctx.mapping.fields.Resource ?? {};
        const isResourceField = resourceMap.isResource;
        if (isResourceField && Object.hasOwn(f, isResourceField) && bool(f[isResourceField])) {
          const fields: Record<string, unknown> = {};
          const get = (k: string) => (resourceMap[k] ? f[resourceMap[k]!] : undefined);
          const has = (k: string) => !!resourceMap[k] && Object.hasOwn(f, resourceMap[k]!);
          if (nameSent) fields.name = name() ?? "(no name)";
          if (has("email")) {
            const email = text(get("email"));
            if (!email)
              throw new FieldProblem(
                resourceMap.email!,
                "is required for a resource",
                "PROJECT_OPS",
              );
            fields.email = email;
          }
          if (has("role")) fields.role = text(get("role")) ?? "Consultant";
          if (has("billRate")) fields.billRate = decimal(get("billRate")) ?? "0";
          if (has("costRate")) fields.costRate = decimal(get("costRate")) ?? "0";
          if (has("currency")) fields.currency = text(get("currency"));
          if (has("active")) fields.active = bool(get("active")) ?? true;
          const matchOn =
            typeof fields.email === "string" ? { field: "email", value: fields.email } : undefined;
          changes.push({
            entityType: "resource",
            system: "PSA",
            object: "Contact",
            externalId: r.record.externalId,
            fields,
            ...(matchOn ? { matchOn } : {}),
          });
        }
        if (changes.length === 0)
          return { skip: "a contact with no account that is not a resource" };
        return changes;
      },
      onDelete: (record) => [
        {
          entityType: "contact",
          system: "SALESFORCE",
          object: "Contact",
          externalId: record.externalId,
          fields: {},
          deleted: true,
        },
        {
          entityType: "resource",
          system: "PSA",
          object: "Contact",
          externalId: record.externalId,
          fields: {},
          deleted: true,
        },
      ],
    },
    ctx,
  );

  const opportunity = defineMapper(
    {
      system: "SALESFORCE",
      object: "Opportunity",
      entityType: "opportunity",
      body(r) {
        const fields: Record<string, unknown> = {};
        const parents: ParentRef[] = [];
        parentRef(
          r,
          "customerId",
          "customerId",
          { system: "SALESFORCE", object: "Account", entityType: "customer" },
          parents,
          fields,
        );
        if (r.has("name")) fields.name = required(r, "name", r.value("name", text));
        if (r.has("stage")) {
          const stage = required(r, "stage", r.picklist("stage", "Opportunity.stage", "SALES_OPS"));
          fields.stage = stage;
          fields.isWon = stage === "CLOSED_WON";
        }
        if (r.has("amount")) fields.amount = r.value("amount", (v) => decimal(v)) ?? "0";
        if (r.has("currency")) fields.currency = required(r, "currency", r.value("currency", text));
        if (r.has("closeDate"))
          fields.closeDate = required(r, "closeDate", r.value("closeDate", date));
        if (r.has("billingModel"))
          fields.billingModel = r.picklist("billingModel", "billingModel", "SALES_OPS");
        if (r.has("legalEntity")) fields.legalEntityId = r.legalEntity("legalEntity");
        if (r.has("contractType")) r.picklist("contractType", "contractType", "SALES_OPS");
        r.put(fields, "taxJurisdiction", "taxJurisdiction", text);
        r.put(fields, "startDate", "startDate", date);
        r.put(fields, "endDate", "endDate", date);
        r.put(fields, "paymentTermsDays", "paymentTermsDays", integer);
        r.put(fields, "retainerAmount", "retainerAmount", (v) => decimal(v));
        r.put(fields, "retainerHours", "retainerHours", (v) => decimal(v));
        r.put(fields, "budgetHours", "budgetHours", (v) => decimal(v));
        r.put(fields, "installments", "installments", integer);
        return [change(r, "opportunity", fields, parents)];
      },
    },
    ctx,
  );

  const contract = defineMapper(
    {
      system: "SALESFORCE",
      object: "Contract",
      entityType: "contract",
      body(r) {
        const fields: Record<string, unknown> = {};
        const parents: ParentRef[] = [];
        parentRef(
          r,
          "customerId",
          "customerId",
          { system: "SALESFORCE", object: "Account", entityType: "customer" },
          parents,
          fields,
        );
        parentRef(
          r,
          "opportunityId",
          "opportunityId",
          { system: "SALESFORCE", object: "Opportunity", entityType: "opportunity" },
          parents,
          fields,
          false,
        );
        r.putIfSet(fields, "number", "number", text);
        r.putIfSet(fields, "startDate", "startDate", date);
        r.put(fields, "endDate", "endDate", date);
        if (r.has("contractType")) r.picklist("contractType", "contractType", "SALES_OPS");
        if (r.has("billingModel"))
          fields.billingModel = r.picklist("billingModel", "billingModel", "SALES_OPS");
        if (r.has("legalEntity")) fields.legalEntityId = r.legalEntity("legalEntity");
        r.put(fields, "totalValue", "totalValue", (v) => decimal(v) ?? "0");
        r.putIfSet(fields, "paymentTermsDays", "paymentTermsDays", integer);
        r.putIfSet(fields, "currency", "currency", text);
        const state = r.has("status")
          ? (r.picklist("status", "Contract.status") ?? undefined)
          : undefined;
        const number = typeof fields.number === "string" ? fields.number : undefined;
        return [
          change(r, "contract", fields, parents, {
            ...(state ? { state } : {}),
            // Linked by its Salesforce Id (source link) first; unlinked, it is the hub contract
            // converted from its Opportunity; ContractNumber is the last resort.
            matchParent: "opportunityId",
            ...(number ? { matchOn: { field: "number", value: number } } : {}),
          }),
        ];
      },
    },
    ctx,
  );

  return [account, contact, opportunity, contract];
}
