import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type DocumentNode, parse } from "graphql";

/**
 * Every *.graphql file in a subgraph folder (schema.graphql, mutations.graphql,
 * subscriptions.graphql, …), sorted by name and concatenated into one document.
 * `dir` is a folder path or a file: URL (e.g. `new URL("..", import.meta.url)`).
 */
export function loadTypeDefs(dir: string | URL): DocumentNode {
  const folder = dir instanceof URL || dir.startsWith("file:") ? fileURLToPath(dir) : dir;
  const files = readdirSync(folder)
    .filter((file) => file.endsWith(".graphql"))
    .sort();
  if (files.length === 0) throw new Error(`no *.graphql files in ${folder}`);
  const source = files
    .map((file) => `# ${file}\n${readFileSync(path.join(folder, file), "utf8")}`)
    .join("\n");
  return parse(source);
}
