/**
 * `npm run compose`: composes subgraphs/<name>/sdl/*.graphql into gateway/supergraph.graphql and
 * gateway/api-schema.graphql. Exits 1 and prints the composition errors when it fails.
 * `--check` writes nothing and exits 1 when the committed files differ (CI drift gate).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import {
  API_SCHEMA_PATH,
  compose,
  REPO_ROOT,
  readAllSubgraphSdl,
  SUPERGRAPH_PATH,
} from "./compose.ts";

const check = process.argv.includes("--check");
const subgraphs = readAllSubgraphSdl();
for (const subgraph of subgraphs) {
  process.stdout.write(`${subgraph.name}: ${subgraph.files.join(", ") || "(no SDL)"}\n`);
}
const result = compose(subgraphs);
if (!result.ok) {
  process.stderr.write(`composition failed with ${result.errors.length} error(s):\n`);
  for (const error of result.errors) process.stderr.write(`  - ${error}\n`);
  process.exit(1);
}

const outputs = [
  [SUPERGRAPH_PATH, result.supergraphSdl],
  [API_SCHEMA_PATH, result.apiSchemaSdl],
] as const;

let drift = false;
for (const [path, content] of outputs) {
  const name = relative(REPO_ROOT, path);
  let current: string | undefined;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    current = undefined;
  }
  if (check) {
    if (current !== content) {
      drift = true;
      process.stderr.write(`${name} is out of date: run npm run compose and commit it\n`);
    }
  } else {
    writeFileSync(path, content);
    process.stdout.write(`${current === content ? "unchanged" : "wrote"} ${name}\n`);
  }
}
if (result.hints.length) process.stdout.write(`${result.hints.length} composition hint(s)\n`);
process.exit(drift ? 1 : 0);
