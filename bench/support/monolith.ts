/**
 * Bench target (c), the floor: ONE non-federated graphql-js schema built from the four
 * subgraphs' own SDL and resolvers, executed in one process with no query planning and no
 * HTTP hops between subgraphs.
 *
 * How it stays "the same resolvers": the four SDL documents are merged (federation directives
 * stripped), every resolver runs with its own subgraph's per-request context (so its own
 * DataLoaders), and where a subgraph returned a bare entity reference (`{ id }` of a type another
 * subgraph owns), the owning subgraph's `__resolveReference` loads it — exactly what the gateway
 * would have asked that subgraph to do, through the same DataLoader.
 */
import { fileURLToPath } from "node:url";
import { mergeTypeDefs } from "@graphql-tools/merge";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { Db } from "@pshub/db";
import { resolvers as billingResolvers, createBillingSubgraph } from "@pshub/subgraph-billing";
import { createCustomerSubgraph, resolvers as customerResolvers } from "@pshub/subgraph-customer";
import { createInvoiceSubgraph, resolvers as invoiceResolvers } from "@pshub/subgraph-invoice";
import { loadTypeDefs, scalarResolvers } from "@pshub/subgraph-kit";
import { createProjectSubgraph, resolvers as projectResolvers } from "@pshub/subgraph-project";
import {
  type DocumentNode,
  defaultFieldResolver,
  execute,
  type GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  Kind,
  parse,
  validate,
  visit,
} from "graphql";

type ModuleName = "customer" | "project" | "billing" | "invoice";
type AnyResolverMap = Record<string, Record<string, unknown>>;
type Context = Record<ModuleName, unknown>;

interface Module {
  name: ModuleName;
  typeDefs: DocumentNode;
  /** `Type.field` the module declares `@external` (another module resolves them). */
  externals: Set<string>;
  resolvers: AnyResolverMap;
  createContext: (headers?: Record<string, string | undefined>) => unknown;
}

const folder = (name: ModuleName) =>
  fileURLToPath(new URL(`../../subgraphs/${name}/`, import.meta.url));

/** Removes federation: `extend schema @link`, and every directive use (`@key`, `@shareable`, …). */
function stripFederation(document: DocumentNode): DocumentNode {
  return visit(document, {
    SchemaExtension: () => null,
    SchemaDefinition: () => null,
    Directive: () => null,
    DirectiveDefinition: () => null,
  });
}

/** `Type.field` of every field the document declares `@external`. */
function externalFields(document: DocumentNode): Set<string> {
  const fields = new Set<string>();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION
    )
      continue;
    for (const field of definition.fields ?? []) {
      if (field.directives?.some((directive) => directive.name.value === "external")) {
        fields.add(`${definition.name.value}.${field.name.value}`);
      }
    }
  }
  return fields;
}

/** A subgraph's entity reference: nothing but `__typename` and key fields. */
function isReference(parent: unknown): parent is { id: string } {
  if (!parent || typeof parent !== "object") return false;
  for (const key of Object.keys(parent)) {
    if (key !== "id" && key !== "__typename") return false;
  }
  return "id" in parent;
}

function createMonolith(db: Db): {
  schema: GraphQLSchema;
  createContext: (headers?: Record<string, string | undefined>) => Context;
} {
  const modules: Module[] = [
    {
      name: "customer",
      resolvers: customerResolvers as AnyResolverMap,
      server: createCustomerSubgraph(db),
    },
    {
      name: "project",
      resolvers: projectResolvers as AnyResolverMap,
      server: createProjectSubgraph(db),
    },
    {
      name: "billing",
      resolvers: billingResolvers as AnyResolverMap,
      server: createBillingSubgraph(db),
    },
    {
      name: "invoice",
      resolvers: invoiceResolvers as AnyResolverMap,
      server: createInvoiceSubgraph(db),
    },
  ].map(({ name, resolvers, server }) => {
    const typeDefs = loadTypeDefs(folder(name as ModuleName));
    return {
      name: name as ModuleName,
      typeDefs: stripFederation(typeDefs),
      externals: externalFields(typeDefs),
      resolvers,
      createContext: (headers?: Record<string, string | undefined>) =>
        server.createContext(headers),
    };
  });

  // Subscriptions need graphql-ws; the floor serves queries only (removed before merging, so
  // that the merged schema definition does not name a Subscription root).
  const withoutSubscriptions = (document: DocumentNode) =>
    visit(document, {
      ObjectTypeDefinition: (node) => (node.name.value === "Subscription" ? null : undefined),
      ObjectTypeExtension: (node) => (node.name.value === "Subscription" ? null : undefined),
    });
  const typeDefs = mergeTypeDefs(modules.map((module) => withoutSubscriptions(module.typeDefs)));

  const merged: Record<string, Record<string, unknown>> = {};
  for (const module of modules) {
    for (const definition of module.typeDefs.definitions) {
      if (
        definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
        definition.kind !== Kind.OBJECT_TYPE_EXTENSION
      )
        continue;
      const typeName = definition.name.value;
      if (typeName === "Subscription") continue;
      const typeResolvers = module.resolvers[typeName] ?? {};
      const resolveReference = typeResolvers.__resolveReference as
        | ((reference: unknown, context: unknown, info: GraphQLResolveInfo) => unknown)
        | undefined;
      merged[typeName] ??= {};
      const target = merged[typeName];
      const loaded = new WeakMap<object, unknown>();
      for (const field of definition.fields ?? []) {
        const fieldName = field.name.value;
        const own = typeResolvers[fieldName] as GraphQLFieldResolver<unknown, unknown> | undefined;
        if (!own && !resolveReference) continue;
        if (fieldName === "id") continue;
        // An @external field is its owner's to resolve (a module that provides it hands the
        // owner's row on, and the owner's resolver reads it).
        if (module.externals.has(`${typeName}.${fieldName}`)) continue;
        const resolve = own ?? defaultFieldResolver;
        const name = module.name;
        target[fieldName] = (
          parent: unknown,
          args: unknown,
          context: Context,
          info: GraphQLResolveInfo,
        ) => {
          const moduleContext = context[name];
          if (resolveReference && isReference(parent)) {
            let full = loaded.get(parent);
            if (full === undefined) {
              full = Promise.resolve(
                resolveReference({ __typename: typeName, ...parent }, moduleContext, info),
              );
              loaded.set(parent, full);
            }
            return (full as Promise<unknown>).then((row) =>
              row == null
                ? null
                : resolve(row, args as Record<string, unknown>, moduleContext, info),
            );
          }
          return resolve(parent, args as Record<string, unknown>, moduleContext, info);
        };
      }
    }
  }

  const schema = makeExecutableSchema({ typeDefs, resolvers: [scalarResolvers, merged] as never });
  return {
    schema,
    createContext: (headers) =>
      Object.fromEntries(
        modules.map((module) => [module.name, module.createContext(headers)]),
      ) as Context,
  };
}

/**
 * A request body (JSON: query, variables, operationName) → the JSON answer, through the monolith
 * schema; parsed-and-validated documents are cached by query text.
 */
export function createMonolithExecutor(db: Db): (body: string) => Promise<string> {
  const { schema, createContext } = createMonolith(db);
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
  return async (text) => {
    const body = JSON.parse(text || "{}") as {
      query?: string;
      variables?: Record<string, unknown>;
      operationName?: string;
    };
    const query = body.query ?? "";
    let document = documents.get(query);
    if (!document) {
      try {
        const parsed = parse(query);
        const errors = validate(schema, parsed);
        document = errors.length ? errors : parsed;
      } catch (error) {
        document = [error as GraphQLError];
      }
      documents.set(query, document);
    }
    const result = Array.isArray(document)
      ? { errors: document }
      : await execute({
          schema,
          document: document as DocumentNode,
          variableValues: body.variables,
          operationName: body.operationName,
          contextValue: createContext(),
        });
    return JSON.stringify(result);
  };
}
