import {
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
} from "graphql";

/** Federation's and the link spec's own types, which a subgraph does not document. */
const BUILT_IN = /^(_|link__|federation__|join__)/;

/**
 * Every type, field, input field and enum value without a description: the IDE is the analysts'
 * documentation, so subgraph tests assert this list is empty.
 */
export function undocumented(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (BUILT_IN.test(type.name) || type.name.startsWith("__") || isSpecifiedScalarType(type)) {
      continue;
    }
    if (!type.description) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description && !field.name.startsWith("_")) {
          missing.push(`${type.name}.${field.name}`);
        }
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) {
        if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
  }
  return missing;
}
