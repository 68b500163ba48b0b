/**
 * Certinia PSA objects → canonical changes. Projects are the hub's (conversion creates them) and
 * are matched by code (pse__Project_ID__c); milestones, assignments, time and expenses reference
 * them by their PSA ids. State fields (pse__Status__c, pse__Stage__c) become `state`: the engine
 * applies them as the same state-machine transitions the mutations use (SUBMITTED → APPROVED, …).
 *
 * A timecard header (a week, hours per weekday) becomes one time entry per day with hours, each
 * linked as `<header id>:<weekday>`; a day whose hours went to 0 is deleted. Timecard splits
 * (pse__Timecard__c) are Certinia's own re-cut of the same hours: recorded and skipped, so hours
 * are never counted twice.
 */
import type { CanonicalChange, InboundRecord, Mapper, ParentRef } from "../engine/types.ts";
import { parentRef } from "../salesforce/mappers.ts";
import {
  defineMapper,
  type MapperContext,
  type RecordReader,
  required,
} from "../salesforce/mapping.ts";
import { bool, date, decimal, text } from "../salesforce/values.ts";

const PROJECT = { system: "PSA", object: "pse__Proj__c", entityType: "project" } as const;
const RESOURCE = { system: "PSA", object: "Contact", entityType: "resource" } as const;
const WEEKDAYS = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
] as const;

const psa = (
  r: RecordReader,
  entityType: CanonicalChange["entityType"],
  fields: Record<string, unknown>,
  parents: ParentRef[],
  extra: Partial<CanonicalChange> = {},
): CanonicalChange => ({
  entityType,
  system: "PSA",
  object: r.record.object,
  externalId: r.record.externalId,
  fields,
  parents,
  ...extra,
});

function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Weekday index 0 = Monday of an ISO date. */
function weekdayOf(isoDate: string): number {
  return (new Date(`${isoDate}T00:00:00Z`).getUTCDay() + 6) % 7;
}

export function certiniaMappers(ctx: MapperContext): Mapper[] {
  const project = defineMapper(
    {
      system: "PSA",
      object: "pse__Proj__c",
      entityType: "project",
      body(r) {
        const fields: Record<string, unknown> = {};
        r.putIfSet(fields, "name", "name", text);
        r.putIfSet(fields, "startDate", "startDate", date);
        r.put(fields, "endDate", "endDate", date);
        r.put(fields, "budgetHours", "budgetHours", (v) => decimal(v));
        const code = r.has("code") ? r.value("code", text) : null;
        if (code) fields.code = code;
        const state = r.has("stage")
          ? (r.picklist("stage", "pse__Proj__c.stage", "PROJECT_OPS") ?? undefined)
          : undefined;
        return [
          psa(r, "project", fields, [], {
            ...(state ? { state } : {}),
            ...(code ? { matchOn: { field: "code", value: code } } : {}),
            create: false,
          }),
        ];
      },
    },
    ctx,
  );

  const milestone = defineMapper(
    {
      system: "PSA",
      object: "pse__Milestone__c",
      entityType: "milestone",
      body(r) {
        const fields: Record<string, unknown> = {};
        const parents: ParentRef[] = [];
        parentRef(r, "projectId", "projectId", PROJECT, parents, fields);
        r.putIfSet(fields, "name", "name", text);
        r.put(fields, "amount", "amount", (v) => decimal(v) ?? "0");
        r.putIfSet(fields, "currency", "currency", text);
        r.putIfSet(fields, "dueDate", "dueDate", date);
        r.put(fields, "completedOn", "completedOn", date);
        let state = r.has("status")
          ? (r.picklist("status", "pse__Milestone__c.status", "PROJECT_OPS") ?? undefined)
          : undefined;
        if (r.has("approved") && r.value("approved", bool)) state = "APPROVED";
        return [
          psa(
            r,
            "milestone",
            fields,
            parents,
            state
              ? {
                  state,
                  stateActor:
                    r.record.modifiedBy ?? text(r.record.fields.LastModifiedById) ?? undefined,
                }
              : {},
          ),
        ];
      },
    },
    ctx,
  );

  const assignment = defineMapper(
    {
      system: "PSA",
      object: "pse__Assignment__c",
      entityType: "assignment",
      body(r) {
        const fields: Record<string, unknown> = {};
        const parents: ParentRef[] = [];
        parentRef(r, "resourceId", "resourceId", RESOURCE, parents, fields);
        parentRef(r, "projectId", "projectId", PROJECT, parents, fields);
        if (r.has("role")) fields.role = r.value("role", text) ?? "Consultant";
        r.put(fields, "billRateOverride", "billRateOverride", (v) => decimal(v));
        r.put(fields, "startDate", "startDate", date);
        r.put(fields, "endDate", "endDate", date);
        return [psa(r, "assignment", fields, parents)];
      },
    },
    ctx,
  );

  const timecard = defineMapper(
    {
      system: "PSA",
      object: "pse__Timecard_Header__c",
      entityType: "time_entry",
      body(r) {
        const status = r.has("status")
          ? r.picklist("status", "pse__Timecard_Header__c.status", "PROJECT_OPS")
          : undefined;
        if (status === "DRAFT") return { skip: "a saved (not submitted) timecard" };
        const common: Record<string, unknown> = {};
        const parents: ParentRef[] = [];
        parentRef(r, "projectId", "projectId", PROJECT, parents, common);
        parentRef(r, "resourceId", "resourceId", RESOURCE, parents, common);
        if (r.has("billable")) common.billable = r.value("billable", bool) ?? true;
        if (r.has("billRate"))
          common.billRate = required(
            r,
            "billRate",
            r.value("billRate", (v) => decimal(v)),
            "PROJECT_OPS",
          );
        r.putIfSet(common, "currency", "currency", text);
        r.put(common, "description", "description", text);
        const actor = r.record.modifiedBy ?? text(r.record.fields.LastModifiedById) ?? undefined;
        const stateFields = status
          ? { state: status, ...(actor ? { stateActor: actor } : {}) }
          : {};
        const start = r.has("startDate") ? r.value("startDate", date) : null;
        const changes: CanonicalChange[] = [];
        for (const [i, day] of WEEKDAYS.entries()) {
          const externalId = `${r.record.externalId}:${day}`;
          if (!r.has(day)) {
            // A partial change without hours: the state or shared fields move for every day.
            if (Object.keys(common).length > 0 || status) {
              changes.push(
                psa(r, "time_entry", { ...common }, parents, {
                  ...stateFields,
                  externalId,
                  create: false,
                }),
              );
            }
            continue;
          }
          const hours = r.value(day, (v) => decimal(v));
          if (!hours || !/[1-9]/.test(hours)) {
            changes.push(psa(r, "time_entry", {}, [], { externalId, deleted: true }));
            continue;
          }
          const fields: Record<string, unknown> = { ...common, hours };
          if (start) fields.workDate = addDays(start, (i - weekdayOf(start) + 7) % 7);
          changes.push(psa(r, "time_entry", fields, parents, { ...stateFields, externalId }));
        }
        return changes.length > 0 ? changes : { skip: "no hours on the timecard" };
      },
      onDelete: (record: InboundRecord) =>
        WEEKDAYS.map((day) => ({
          entityType: "time_entry" as const,
          system: "PSA" as const,
          object: record.object,
          externalId: `${record.externalId}:${day}`,
          fields: {},
          deleted: true,
        })),
    },
    ctx,
  );

  const split = defineMapper(
    {
      system: "PSA",
      object: "pse__Timecard__c",
      entityType: "time_entry",
      body: () => ({
        skip: "a timecard split re-cuts its header's hours; the header (pse__Timecard_Header__c) is applied",
      }),
      onDelete: () => [],
    },
    ctx,
  );

  const expense = defineMapper(
    {
      system: "PSA",
      object: "pse__Expense__c",
      entityType: "expense",
      body(r) {
        const status = r.has("status")
          ? r.picklist("status", "pse__Expense__c.status", "PROJECT_OPS")
          : undefined;
        if (status === "DRAFT") return { skip: "a draft (not submitted) expense" };
        const fields: Record<string, unknown> = {};
        const parents: ParentRef[] = [];
        parentRef(r, "projectId", "projectId", PROJECT, parents, fields);
        parentRef(r, "resourceId", "resourceId", RESOURCE, parents, fields);
        r.putIfSet(fields, "incurredOn", "incurredOn", date);
        if (r.has("amount"))
          fields.amount = required(
            r,
            "amount",
            r.value("amount", (v) => decimal(v)),
            "PROJECT_OPS",
          );
        r.putIfSet(fields, "currency", "currency", text);
        if (r.has("category")) fields.category = r.value("category", text) ?? "Other";
        if (r.has("billable")) fields.billable = r.value("billable", bool) ?? true;
        r.put(fields, "description", "description", text);
        const actor = r.record.modifiedBy ?? text(r.record.fields.LastModifiedById) ?? undefined;
        return [
          psa(
            r,
            "expense",
            fields,
            parents,
            status ? { state: status, ...(actor ? { stateActor: actor } : {}) } : {},
          ),
        ];
      },
    },
    ctx,
  );

  return [project, milestone, assignment, timecard, split, expense];
}
