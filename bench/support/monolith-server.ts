/**
 * Bench target (m), the single-process monolith baseline, as a process: the monolith schema
 * (monolith.ts) over graphql-js on node:http at PORT, one database pool.
 */
import { createServer } from "node:http";
import { createDbClient } from "@pshub/db";
import { createMonolithExecutor } from "./monolith.ts";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("DATABASE_URL is required");
const client = createDbClient(databaseUrl, {
  max: Number(process.env.DB_POOL_MAX ?? 10),
  applicationName: "pshub-bench-monolith",
});
const run = createMonolithExecutor(client.db);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", async () => {
    try {
      const text = await run(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    } catch (error) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
    }
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address ? address.port : ""}\n`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    void client.close().finally(() => process.exit(0));
  });
}
