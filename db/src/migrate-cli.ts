/** `npm run migrate`: applies the committed migrations to DATABASE_URL (or embedded Postgres). */
import { resolveDatabaseUrl } from "./database-url.ts";
import { createLogger } from "./logger.ts";
import { runMigrations } from "./migrate.ts";

const log = createLogger("migrate");
const { url, stop } = await resolveDatabaseUrl(log);
await runMigrations(url);
log.info("migrations applied");
await stop();
