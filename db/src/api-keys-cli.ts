/**
 * `npm run apikey -- <command>`: API keys of service clients, against DATABASE_URL (or the
 * embedded Postgres of `npm start`). The key is printed once, at creation; only its hash is kept.
 *
 *   npm run apikey -- create <name> --roles integration[,finance] [--legal-entities US,UK]
 *   npm run apikey -- revoke <name>
 *   npm run apikey -- list
 */
import { parseArgs } from "node:util";
import { ApiKeyNameTakenError, createApiKey, listApiKeys, revokeApiKey } from "./api-keys.ts";
import { createDbClient } from "./client.ts";
import { resolveDatabaseUrl } from "./database-url.ts";
import { createLogger } from "./logger.ts";
import { runMigrations } from "./migrate.ts";
import { ROLES } from "./principal.ts";

const USAGE = `usage:
  npm run apikey -- create <name> --roles <role,…> [--legal-entities <code,…>]
  npm run apikey -- revoke <name>
  npm run apikey -- list
roles: ${ROLES.join(", ")}; without --legal-entities the key sees every legal entity`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { roles: { type: "string" }, "legal-entities": { type: "string" } },
});
const [command, name] = positionals;
const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

if (command !== "create" && command !== "revoke" && command !== "list") usage();
if (command !== "list" && !name) usage(`${command} needs a key name`);
const roles = list(values.roles);
if (command === "create") {
  if (roles.length === 0) usage("create needs --roles");
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length) usage(`unknown role(s): ${unknown.join(", ")}`);
}

const log = createLogger("apikey", "warn");
const database = await resolveDatabaseUrl(log);
await runMigrations(database.url);
const client = createDbClient(database.url, { max: 1, applicationName: "pshub-apikey" });
let exitCode = 0;
try {
  if (command === "create") {
    const legalEntities = list(values["legal-entities"]);
    const { key, record } = await createApiKey(client.db, {
      name: name as string,
      roles,
      legalEntities: legalEntities.length ? legalEntities : null,
    });
    process.stdout.write(
      `created API key "${record.name}" (roles: ${record.roles.join(", ")}; legal entities: ${record.legalEntities?.join(", ") ?? "all"})\n` +
        `${key}\n` +
        "This is the only time the key is shown. Send it as `x-api-key: <key>` (or `Authorization: Bearer <key>`).\n",
    );
  } else if (command === "revoke") {
    if (await revokeApiKey(client.db, name as string)) {
      process.stdout.write(`revoked API key "${name}"\n`);
    } else {
      process.stderr.write(`no live API key named "${name}"\n`);
      exitCode = 1;
    }
  } else {
    for (const key of await listApiKeys(client.db)) {
      process.stdout.write(
        `${key.name}\t${key.keyPrefix}…\t${key.revoked ? "REVOKED" : "live"}\troles=${key.roles.join(",")}\tlegalEntities=${key.legalEntities?.join(",") ?? "all"}\tlastUsed=${key.lastUsedAt?.toISOString() ?? "never"}\n`,
      );
    }
  }
} catch (error) {
  if (!(error instanceof ApiKeyNameTakenError)) throw error;
  process.stderr.write(`${error.message}\n`);
  exitCode = 1;
} finally {
  await client.close();
  await database.stop();
}
process.exit(exitCode);
