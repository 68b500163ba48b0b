import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type DocumentNode, parse } from "graphql";

/**
 * The SDL every subgraph shares: the scalars (Decimal, Date, DateTime), Money, PageInfo and
 * OrderDirection. It is part of every subgraph's SDL wherever that SDL is read (here, the
 * gateway's composition, codegen.ts).
 */
export const COMMON_SDL_FILE = fileURLToPath(new URL("../sdl/common.graphql", import.meta.url));

/** Where a subgraph folder keeps its SDL files. */
export const SUBGRAPH_SDL_DIR = "sdl";

/**
 * The SDL files of a subgraph folder, in the order they are concatenated: the shared
 * {@link COMMON_SDL_FILE} first, then every *.graphql in the folder's `sdl/` (one file per type:
 * `schema.graphql` with the federation `@link`, `Query.graphql`, `Mutation.graphql`,
 * `Subscription.graphql`, `Invoice.graphql` with its connection, filter and order types, …)
 * sorted by name. `dir` is the subgraph folder, a path or a file: URL (e.g.
 * `new URL("..", import.meta.url)`). An empty list when `sdl/` has no *.graphql (or does not exist).
 */
export function subgraphSdlFiles(dir: string | URL): string[] {
  const folder = path.join(
    dir instanceof URL || dir.startsWith("file:") ? fileURLToPath(dir) : dir,
    SUBGRAPH_SDL_DIR,
  );
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  const own = entries.filter((file) => file.endsWith(".graphql")).sort();
  return own.length === 0 ? [] : [COMMON_SDL_FILE, ...own.map((file) => path.join(folder, file))];
}

/** The SDL files of a subgraph folder ({@link subgraphSdlFiles}) as one text. */
export function readSubgraphSdlText(dir: string | URL): string {
  return subgraphSdlFiles(dir)
    .map((file) => `# ${path.basename(file)}\n${readFileSync(file, "utf8")}`)
    .join("\n");
}

/** Every SDL file of a subgraph folder ({@link subgraphSdlFiles}), parsed as one document. */
export function loadTypeDefs(dir: string | URL): DocumentNode {
  const source = readSubgraphSdlText(dir);
  if (!source) throw new Error(`no *.graphql files in ${String(dir)}`);
  return parse(source);
}
