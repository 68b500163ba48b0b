/**
 * Bench target (c) as a process: the monolith schema (monolith.ts) over graphql-js on
 * node:http at PORT, one database pool, parsed-and-validated documents cached by query text.
 */
import { createServer } from "node:http";
import { createDbClient } from "@pshub/db";
import { type DocumentNode, execute, type GraphQLError, parse, validate } from "graphql";
import { createMonolith } from "./monolith.ts";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("DATABASE_URL is required");
const client = createDbClient(databaseUrl, {
  max: Number(process.env.DB_POOL_MAX ?? 10),
  applicationName: "pshub-bench-floor",
});
const { schema, createContext } = createMonolith(client.db);
const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", async () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
        query?: string;
        variables?: Record<string, unknown>;
        operationName?: string;
      };
      const query = body.query ?? "";
      let document = documents.get(query);
      if (!document) {
        try {
          const parsed = parse(query);
          const errors = validate(schema, parsed);
          document = errors.length ? errors : parsed;
        } catch (error) {
          document = [error as GraphQLError];
        }
        documents.set(query, document);
      }
      const result = Array.isArray(document)
        ? { errors: document }
        : await execute({
            schema,
            document: document as DocumentNode,
            variableValues: body.variables,
            operationName: body.operationName,
            contextValue: createContext(),
          });
      const text = JSON.stringify(result);
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
