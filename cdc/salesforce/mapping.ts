/**
 * The pieces every Salesforce-org mapper (CRM and Certinia) shares: reading a mapped field from
 * a full or partial record, value maps, the legal-entity code lookup, loop prevention, and
 * turning a bad value into a MappingFailure that names the record and the field.
 */
import type {
  CanonicalChange,
  EntityType,
  InboundRecord,
  Mapper,
  MappingFailure,
  MapResult,
  SourceSystem,
} from "../engine/types.ts";
import type { MappingConfig, ObjectFieldMap } from "./field-map.ts";
import { ValueError } from "./values.ts";

export interface MapperContext {
  mapping: MappingConfig;
  /** Legal entity code (lower case) → legal_entity.id. */
  legalEntities: Map<string, string>;
  /** Users whose changes are pshub's own (the integration user): not applied again. */
  ownUserIds: Set<string>;
}

/** Thrown inside a mapper body; turned into a MappingFailure by defineMapper. */
export class FieldProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly owner: MappingFailure["owner"] = "INTEGRATION",
    readonly remediation?: string,
  ) {
    super(message);
  }
}

export class RecordReader {
  constructor(
    readonly record: InboundRecord,
    readonly map: ObjectFieldMap,
    readonly ctx: MapperContext,
  ) {}

  /** The source field behind a canonical key (undefined when not mapped). */
  source(key: string): string | undefined {
    return this.map[key] ?? undefined;
  }

  /** Was the mapped field sent in this record (always, for full records)? */
  has(key: string): boolean {
    const f = this.source(key);
    return f !== undefined && Object.hasOwn(this.record.fields, f);
  }

  raw(key: string): unknown {
    const f = this.source(key);
    return f === undefined ? undefined : this.record.fields[f];
  }

  /** Converts a mapped field with `convert`; a bad value is a FieldProblem naming the field. */
  value<T>(key: string, convert: (v: unknown) => T, owner?: MappingFailure["owner"]): T {
    try {
      return convert(this.raw(key));
    } catch (err) {
      if (err instanceof ValueError) {
        throw new FieldProblem(this.source(key) ?? key, err.message, owner);
      }
      throw err;
    }
  }

  /** Sets canonical `field` from mapped `key` when the record carries it (merge, never null-out
   *  a field that was not sent). */
  put(
    fields: Record<string, unknown>,
    field: string,
    key: string,
    convert: (v: unknown) => unknown,
  ): void {
    if (this.has(key)) fields[field] = this.value(key, convert);
  }

  /** Like put, for a column that cannot be null in the hub: a blank source value is not sent
   *  (the hub keeps what it has) rather than clearing it. */
  putIfSet(
    fields: Record<string, unknown>,
    field: string,
    key: string,
    convert: (v: unknown) => unknown,
  ): void {
    if (!this.has(key)) return;
    const v = this.value(key, convert);
    if (v !== null && v !== undefined) fields[field] = v;
  }

  /** A picklist value through the value map `mapName`; unknown values are FieldProblems. */
  picklist(key: string, mapName: string, owner: MappingFailure["owner"] = "INTEGRATION") {
    const v = this.raw(key);
    if (v === null || v === undefined || v === "") return null;
    const map = this.ctx.mapping.values[mapName] ?? {};
    const hit = map[String(v)] ?? Object.values(map).find((x) => x === v);
    if (!hit) {
      throw new FieldProblem(
        this.source(key) ?? key,
        `value "${String(v)}" is not mapped (known: ${Object.keys(map).join(", ")})`,
        owner,
        `Set ${this.source(key)} on ${this.record.object} ${this.record.externalId} to one of ${Object.keys(map).join(", ")}, or map "${String(v)}" in SALESFORCE_FIELD_MAP values.${mapName}.`,
      );
    }
    return hit;
  }

  /** A legal entity code (or id) → legal_entity.id. */
  legalEntity(key: string): string | null {
    const v = this.raw(key);
    if (v === null || v === undefined || v === "") return null;
    const id = this.ctx.legalEntities.get(String(v).toLowerCase());
    if (!id) {
      const known = [...this.ctx.legalEntities.keys()].filter((k) => !k.includes("-"));
      throw new FieldProblem(
        this.source(key) ?? key,
        `legal entity "${String(v)}" is unknown`,
        "SALES_OPS",
        `Set ${this.source(key)} on ${this.record.object} ${this.record.externalId} to a legal entity code (${known.map((k) => k.toUpperCase()).join(", ")}).`,
      );
    }
    return id;
  }
}

export interface MapperSpec {
  system: SourceSystem;
  object: string;
  entityType: EntityType;
  /** The field map entry in the mapping config (usually the object name). */
  mapKey?: string;
  /** Source fields read besides the mapped ones (e.g. IsWon). */
  extraFields?: string[];
  body(r: RecordReader): CanonicalChange[] | { skip: string };
  /** What a source-side delete becomes (default: one deleted change for the record). */
  onDelete?(record: InboundRecord): CanonicalChange[];
}

export function defineMapper(spec: MapperSpec, ctx: MapperContext): Mapper {
  const map = ctx.mapping.fields[spec.mapKey ?? spec.object] ?? {};
  const requiredFields = [
    ...new Set([
      ...Object.values(map).filter((f): f is string => typeof f === "string"),
      ...(spec.extraFields ?? []),
    ]),
  ];
  return {
    system: spec.system,
    object: spec.object,
    entityType: spec.entityType,
    requiredFields,
    parse(record): MapResult {
      if (record.modifiedBy && ctx.ownUserIds.has(record.modifiedBy)) {
        return {
          kind: "skip",
          reason: `changed by pshub's own integration user ${record.modifiedBy} (loop prevention)`,
        };
      }
      if (record.op === "DELETE") {
        const changes = spec.onDelete?.(record) ?? [
          {
            entityType: spec.entityType,
            system: spec.system,
            object: spec.object,
            externalId: record.externalId,
            fields: {},
            deleted: true,
          },
        ];
        return { kind: "changes", changes };
      }
      try {
        const out = spec.body(new RecordReader(record, map, ctx));
        if ("skip" in out) return { kind: "skip", reason: out.skip };
        return { kind: "changes", changes: out };
      } catch (err) {
        if (err instanceof FieldProblem) {
          return {
            kind: "failure",
            failure: {
              field: err.field,
              message: `${spec.object} ${record.externalId}: ${err.field} ${err.message}`,
              owner: err.owner,
              code: "MAPPING_INVALID_FIELD",
              remediation:
                err.remediation ??
                `Fix ${err.field} on ${spec.object} ${record.externalId}: ${err.message}.`,
            },
          };
        }
        throw err;
      }
    },
  };
}

/** A required value: absent or blank on a full record is a FieldProblem. */
export function required<T>(
  r: RecordReader,
  key: string,
  value: T | null,
  owner?: MappingFailure["owner"],
): T {
  if (value === null || value === undefined) {
    throw new FieldProblem(
      r.source(key) ?? key,
      "is required",
      owner,
      `Set ${r.source(key) ?? key} on ${r.record.object} ${r.record.externalId}.`,
    );
  }
  return value;
}
