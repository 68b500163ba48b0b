/**
 * The graph's custom scalars at the gateway. @apollo/gateway builds its API schema from the
 * supergraph SDL, which names Decimal, Date and DateTime but carries no code for them, so every
 * value passed as it is and a bad one ("abc", "0.005", "2026-13-45") was only refused by the
 * subgraph, as an opaque "400: Bad Request". The gateway offers no hook for scalar code; this
 * installs the subgraphs' own implementations (@pshub/subgraph-kit `scalarResolvers`, the one
 * definition) into each schema it loads, before Apollo Server validates against it. Literals are
 * then checked in validation and variables in the gateway's variable coercion: the scalar's own
 * BAD_USER_INPUT, through Apollo's normal pipeline, with no subgraph called.
 */
import { scalarResolvers } from "@pshub/subgraph-kit";
import { type GraphQLScalarType, type GraphQLSchema, isScalarType } from "graphql";

/** Gives the schema's custom scalars the kit's parse/serialise functions (in place). */
export function installScalars(
  schema: GraphQLSchema,
  scalars: Record<string, GraphQLScalarType> = scalarResolvers,
): string[] {
  const installed: string[] = [];
  for (const [name, implementation] of Object.entries(scalars)) {
    const type = schema.getType(name);
    if (!isScalarType(type)) continue;
    type.serialize = implementation.serialize;
    type.parseValue = implementation.parseValue;
    type.parseLiteral = implementation.parseLiteral;
    installed.push(name);
  }
  return installed;
}
