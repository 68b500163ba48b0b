/**
 * `npm run bench -- <name> [args…]`: runs bench/<name>.ts. Each bench prints a table, appends it
 * to bench/RESULTS.md, and exits. `npm run bench` alone lists what exists.
 */
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(here)
  .filter(
    (file) =>
      file.endsWith(".ts") &&
      file !== "run.ts" &&
      !file.endsWith(".test.ts") &&
      !file.endsWith(".d.ts"),
  )
  .map((file) => file.slice(0, -3))
  .sort();

const name = process.argv[2];
if (!name || name === "--help" || name === "-h") {
  process.stdout.write(
    `usage: npm run bench -- <name>\navailable: ${available.join(", ") || "(none)"}\n`,
  );
  process.exit(name ? 0 : 1);
}
if (!/^[a-z0-9-]+$/.test(name) || !existsSync(`${here}${name}.ts`)) {
  process.stderr.write(`unknown bench "${name}"; available: ${available.join(", ") || "(none)"}\n`);
  process.exit(1);
}
// The bench sees its own arguments as process.argv.slice(2).
process.argv.splice(2, 1);
await import(pathToFileURL(`${here}${name}.ts`).href);
