/**
 * `npm run trusted-documents`: writes gateway/trusted-documents.json from the IDE's example tabs
 * and test/operations (trusted-documents.ts). The drift gate runs it and fails on a diff.
 */
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { REPO_ROOT } from "./compose.ts";
import { buildManifest, TRUSTED_DOCUMENTS_PATH } from "./trusted-documents.ts";

const manifest = buildManifest();
writeFileSync(TRUSTED_DOCUMENTS_PATH, `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(
  `wrote ${relative(REPO_ROOT, TRUSTED_DOCUMENTS_PATH)}: ${manifest.operations.length} document(s)\n`,
);
