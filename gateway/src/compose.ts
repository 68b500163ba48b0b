/**
 * Build-time composition: every subgraph's SDL (the kit's shared sdl/common.graphql, then all
 * *.graphql files in subgraphs/<name>/sdl/, sorted and concatenated) → the supergraph SDL and the
 * client-facing API schema.
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { composeServices } from "@apollo/composition";
import { readSubgraphSdlText, subgraphSdlFiles } from "@pshub/subgraph-kit";
import { GraphQLSchema, parse, printSchema } from "graphql";
import { SUBGRAPHS, type SubgraphName, type SubgraphUrls } from "./subgraphs.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SUPERGRAPH_PATH = join(REPO_ROOT, "gateway", "supergraph.graphql");
export const API_SCHEMA_PATH = join(REPO_ROOT, "gateway", "api-schema.graphql");

export interface SubgraphSdl {
  name: SubgraphName;
  url: string;
  sdl: string;
  files: string[];
}

/** Reads subgraphs/<name>/sdl/*.graphql (after the kit's shared SDL), sorted by file name, concatenated. */
export function readSubgraphSdl(
  name: SubgraphName,
  root = REPO_ROOT,
): { sdl: string; files: string[] } {
  const folder = join(root, "subgraphs", name);
  return {
    sdl: readSubgraphSdlText(folder),
    files: subgraphSdlFiles(folder).map((file) => relative(root, file)),
  };
}

export function readAllSubgraphSdl(urls: SubgraphUrls = {}, root = REPO_ROOT): SubgraphSdl[] {
  return SUBGRAPHS.map((subgraph) => ({
    name: subgraph.name,
    url: urls[subgraph.name] ?? subgraph.defaultUrl,
    ...readSubgraphSdl(subgraph.name, root),
  }));
}

/**
 * The schema with its types in name order (each type's fields in the order its subgraphs declare
 * them), so the printed API schema does not depend on how a subgraph's SDL is split into files.
 */
function typesByName(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  const types = [...config.types].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return new GraphQLSchema({ ...config, types });
}

export type ComposeResult =
  | { ok: true; supergraphSdl: string; apiSchemaSdl: string; hints: string[] }
  | { ok: false; errors: string[] };

export function compose(subgraphs: SubgraphSdl[]): ComposeResult {
  const errors: string[] = [];
  const services = [];
  for (const subgraph of subgraphs) {
    if (!subgraph.sdl.trim()) {
      errors.push(
        `[${subgraph.name}] no SDL: subgraphs/${subgraph.name}/sdl/*.graphql is missing or empty`,
      );
      continue;
    }
    try {
      services.push({ name: subgraph.name, url: subgraph.url, typeDefs: parse(subgraph.sdl) });
    } catch (error) {
      errors.push(`[${subgraph.name}] ${(error as Error).message}`);
    }
  }
  if (errors.length) return { ok: false, errors };
  const result = composeServices(services);
  if (result.errors) {
    return { ok: false, errors: result.errors.map((error) => error.message) };
  }
  const apiSchema = result.schema.toAPISchema().toGraphQLJSSchema();
  return {
    ok: true,
    supergraphSdl: result.supergraphSdl,
    apiSchemaSdl: `${printSchema(typesByName(apiSchema))}\n`,
    hints: result.hints.map((hint) => hint.toString()),
  };
}
