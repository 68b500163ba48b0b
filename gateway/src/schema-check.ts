/**
 * Schema governance: the client-facing API schema composed from the subgraphs, compared with a
 * base (main's committed gateway/api-schema.graphql) by @graphql-inspector/core. A breaking
 * change fails unless it is listed, with a reason, in gateway/schema-breaking-changes.json;
 * dangerous changes and deprecations are reported, never fatal.
 *
 *   const report = await checkSchemaChanges({ baseSdl, newSdl, accepted });
 *   if (!report.ok) … report.unaccepted …
 *
 * The CLI (schema-check-cli.ts, `npm run schema:check`) picks the base and prints the report.
 */
import { join } from "node:path";
import { type Change, CriticalityLevel, diff } from "@graphql-inspector/core";
import {
  buildSchema,
  type GraphQLField,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
} from "graphql";
import { z } from "zod";
import { REPO_ROOT } from "./compose.ts";

/** The committed list of breaking changes that were accepted on purpose. */
export const ACCEPTED_CHANGES_PATH = join(REPO_ROOT, "gateway", "schema-breaking-changes.json");

/** One accepted breaking change: inspector's change type and path, and why it is acceptable. */
const acceptedChangeSchema = z.object({
  /** @graphql-inspector's change type, e.g. FIELD_REMOVED. */
  type: z.string().regex(/^[A-Z_]+$/, "must be an inspector change type like FIELD_REMOVED"),
  /** The schema coordinate the change reports, e.g. Customer.unbilled. */
  path: z.string().min(1),
  /** Why clients may take this break (who was told, what replaces it). */
  reason: z.string().trim().min(10, "must say why the break is acceptable (10 characters or more)"),
  /** When it was accepted (YYYY-MM-DD). */
  acceptedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD"),
});

export const acceptedChangesFileSchema = z.object({
  accepted: z.array(acceptedChangeSchema),
});

export type AcceptedChange = z.infer<typeof acceptedChangeSchema>;

/** A deprecated field, argument, input field or enum value of the new schema. */
interface Deprecated {
  coordinate: string;
  reason: string;
}

export interface SchemaCheckReport {
  /** False when a breaking change is not accepted. */
  ok: boolean;
  /** Breaking changes not listed in the accepted file: these fail the check. */
  unaccepted: Change[];
  /** Breaking changes the accepted file lists, with its reason. */
  accepted: { change: Change; reason: string }[];
  /** Changes that may break some clients (e.g. a new enum value): reported. */
  dangerous: Change[];
  /** Deprecations added, changed or removed by this change. */
  deprecationChanges: Change[];
  /** Everything deprecated in the new schema. */
  deprecated: Deprecated[];
  /** Every change, for the record. */
  all: Change[];
}

const DEPRECATION = /DEPRECATION|DEPRECATED/;

const changeKey = (type: string, path: string | undefined) => `${type} ${path ?? ""}`;

/** Compares two SDL texts (the API schema before and after). */
export async function checkSchemaChanges(options: {
  baseSdl: string;
  newSdl: string;
  accepted: readonly AcceptedChange[];
}): Promise<SchemaCheckReport> {
  const base = buildSchema(options.baseSdl);
  const next = buildSchema(options.newSdl);
  const all = await diff(base, next);
  const reasons = new Map(options.accepted.map((a) => [changeKey(a.type, a.path), a.reason]));
  const unaccepted: Change[] = [];
  const accepted: { change: Change; reason: string }[] = [];
  for (const change of all) {
    if (change.criticality.level !== CriticalityLevel.Breaking) continue;
    const reason = reasons.get(changeKey(change.type, change.path));
    if (reason) accepted.push({ change, reason });
    else unaccepted.push(change);
  }
  return {
    ok: unaccepted.length === 0,
    unaccepted,
    accepted,
    dangerous: all.filter((c) => c.criticality.level === CriticalityLevel.Dangerous),
    deprecationChanges: all.filter((c) => DEPRECATION.test(c.type)),
    deprecated: deprecatedIn(next),
    all,
  };
}

/** Every deprecated field, argument, input field and enum value, by schema coordinate. */
function deprecatedIn(schema: GraphQLSchema): Deprecated[] {
  const found: Deprecated[] = [];
  const field = (owner: string, f: GraphQLField<unknown, unknown>) => {
    if (f.deprecationReason)
      found.push({ coordinate: `${owner}.${f.name}`, reason: f.deprecationReason });
    for (const arg of f.args)
      if (arg.deprecationReason)
        found.push({
          coordinate: `${owner}.${f.name}(${arg.name}:)`,
          reason: arg.deprecationReason,
        });
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__")) continue;
    if (isObjectType(type) || isInterfaceType(type))
      for (const f of Object.values(type.getFields())) field(type.name, f);
    else if (isInputObjectType(type)) {
      for (const f of Object.values(type.getFields()))
        if (f.deprecationReason)
          found.push({ coordinate: `${type.name}.${f.name}`, reason: f.deprecationReason });
    } else if (isEnumType(type))
      for (const value of type.getValues())
        if (value.deprecationReason)
          found.push({ coordinate: `${type.name}.${value.name}`, reason: value.deprecationReason });
  }
  return found.sort((a, b) => a.coordinate.localeCompare(b.coordinate));
}

/** The report as lines of text (the CLI prints them). */
export function formatReport(report: SchemaCheckReport, baseName: string): string[] {
  const lines = [`schema check against ${baseName}: ${report.all.length} change(s)`];
  const line = (c: Change) => `  - ${c.type} ${c.path ?? ""}: ${c.message}`;
  if (report.unaccepted.length) {
    lines.push(`BREAKING, not accepted (${report.unaccepted.length}):`);
    lines.push(...report.unaccepted.map(line));
    lines.push(
      "  Keep the old field (deprecate it) or list the change in gateway/schema-breaking-changes.json",
      '  as { "type", "path", "reason", "acceptedOn" } — the type and path as printed above.',
    );
  }
  if (report.accepted.length) {
    lines.push(`breaking, accepted (${report.accepted.length}):`);
    for (const { change, reason } of report.accepted)
      lines.push(`${line(change)} — accepted: ${reason}`);
  }
  if (report.dangerous.length) {
    lines.push(`dangerous (${report.dangerous.length}):`);
    lines.push(...report.dangerous.map(line));
  }
  if (report.deprecationChanges.length) {
    lines.push(`deprecations changed (${report.deprecationChanges.length}):`);
    lines.push(...report.deprecationChanges.map(line));
  }
  lines.push(`deprecated in the schema (${report.deprecated.length}):`);
  for (const d of report.deprecated) lines.push(`  - ${d.coordinate}: ${d.reason}`);
  lines.push(report.ok ? "schema check ok" : "schema check FAILED");
  return lines;
}
