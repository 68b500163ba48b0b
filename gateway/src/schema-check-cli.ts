/**
 * `npm run schema:check` (a CI gate, run by scripts/check-drift.sh): composes the API schema from
 * the subgraphs' SDL and compares it with a base for breaking changes (schema-check.ts).
 *
 * The base, first that applies:
 * - SCHEMA_BASE_FILE: an SDL file (a release's schema, or a test's);
 * - SCHEMA_BASE_REF: gateway/api-schema.graphql at that git ref;
 * - on a branch: at the merge base with main (what main's clients use today);
 * - on main's tip with uncommitted SDL changes: at HEAD;
 * - on main itself, clean (CI on main): at HEAD^, the schema before the last landing.
 * Without git history (a shallow copy) and without an explicit base, the check says it is skipped.
 * SCHEMA_ACCEPTED_FILE replaces gateway/schema-breaking-changes.json (tests).
 * Exits 1 on an unaccepted breaking change, a composition failure or a bad accepted file.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadEnvOrExit } from "@pshub/db";
import { z } from "zod";
import { compose, REPO_ROOT, readAllSubgraphSdl } from "./compose.ts";
import {
  ACCEPTED_CHANGES_PATH,
  acceptedChangesFileSchema,
  checkSchemaChanges,
  formatReport,
} from "./schema-check.ts";

const env = loadEnvOrExit(
  z.object({
    SCHEMA_BASE_FILE: z.string().min(1).optional(),
    SCHEMA_BASE_REF: z.string().min(1).optional(),
    SCHEMA_ACCEPTED_FILE: z.string().min(1).optional(),
  }),
);

const fail = (message: string): never => {
  process.stderr.write(`schema check: ${message}\n`);
  process.exit(1);
};

const git = (...args: string[]): string | undefined => {
  try {
    return execFileSync("git", args, {
      cwd: REPO_ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 64 * 1024 * 1024,
    }).trim();
  } catch {
    return undefined;
  }
};

/** The base schema's SDL and a name for it, or undefined when there is no history to compare with. */
function baseSchema(): { sdl: string; name: string } | undefined {
  if (env.SCHEMA_BASE_FILE)
    return { sdl: readFileSync(env.SCHEMA_BASE_FILE, "utf8"), name: env.SCHEMA_BASE_FILE };
  const at = (ref: string) => git("show", `${ref}:gateway/api-schema.graphql`);
  if (env.SCHEMA_BASE_REF) {
    const sdl = at(env.SCHEMA_BASE_REF);
    if (sdl === undefined)
      fail(`SCHEMA_BASE_REF=${env.SCHEMA_BASE_REF} has no gateway/api-schema.graphql`);
    return { sdl: sdl as string, name: env.SCHEMA_BASE_REF };
  }
  const head = git("rev-parse", "HEAD");
  const main =
    git("rev-parse", "--verify", "--quiet", "main") ??
    git("rev-parse", "--verify", "--quiet", "origin/main");
  if (!head || !main) return undefined;
  const mergeBase = git("merge-base", head, main);
  // Uncommitted SDL edits on main's tip are compared with that tip; a clean main (CI) with HEAD^.
  const dirty = Boolean(
    git("status", "--porcelain", "--", "subgraphs", "gateway/api-schema.graphql"),
  );
  const [ref, label] =
    mergeBase && mergeBase !== head
      ? [mergeBase, "main (merge base)"]
      : dirty
        ? [head, "HEAD"]
        : [`${head}^`, "HEAD^"];
  const sdl = at(ref);
  if (sdl === undefined) return undefined;
  return { sdl, name: `${label} ${ref.slice(0, 12)}` };
}

const composed = compose(readAllSubgraphSdl());
if (!composed.ok) fail(`composition failed:\n  - ${composed.errors.join("\n  - ")}`);
const newSdl = (composed as { apiSchemaSdl: string }).apiSchemaSdl;

const acceptedPath = env.SCHEMA_ACCEPTED_FILE ?? ACCEPTED_CHANGES_PATH;
let acceptedJson: unknown;
try {
  acceptedJson = JSON.parse(readFileSync(acceptedPath, "utf8"));
} catch (error) {
  fail(`${acceptedPath}: ${(error as Error).message}`);
}
const acceptedFile = acceptedChangesFileSchema.safeParse(acceptedJson);
if (!acceptedFile.success)
  fail(
    `${acceptedPath}: ${acceptedFile.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
  );

const base = baseSchema();
if (!base) {
  process.stdout.write(
    "schema check skipped: no git history to compare with (set SCHEMA_BASE_REF or SCHEMA_BASE_FILE)\n",
  );
  process.exit(0);
}
const report = await checkSchemaChanges({
  baseSdl: base.sdl,
  newSdl,
  accepted: acceptedFile.data?.accepted ?? [],
});
process.stdout.write(`${formatReport(report, base.name).join("\n")}\n`);
process.exit(report.ok ? 0 : 1);
