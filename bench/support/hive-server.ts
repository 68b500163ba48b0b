/**
 * Bench peers (b): Hive Gateway's runtime (@graphql-hive/gateway-runtime, the engine of the
 * `hive-gateway` CLI) serving the same supergraph (SUPERGRAPH_PATH, with the bench's subgraph
 * URLs written in) on node:http at PORT, with its defaults except logging off, like ours.
 *
 * HIVE_DEDUPE=false turns off its in-flight deduplication of identical subgraph queries (the HTTP
 * transport's `deduplicateInflightRequests`, on by default). HIVE_ROUTER_RUNTIME=true plans and
 * executes with @graphql-hive/router-runtime (Hive Router's Rust query planner, a native addon).
 *
 * Why not the CLI: `hive-gateway` 2.15 fails to start in this workspace on Node 20 (npm hoists
 * commander 4 beside its @commander-js/extra-typings, which needs commander 14); the CLI wraps
 * this same runtime.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";

const supergraphPath = process.env.SUPERGRAPH_PATH;
const port = Number(process.env.PORT ?? 0);
if (!supergraphPath) throw new Error("SUPERGRAPH_PATH is required");
const dedupe = process.env.HIVE_DEDUPE !== "false";
const routerRuntime = process.env.HIVE_ROUTER_RUNTIME === "true";

const gateway = createGatewayRuntime({
  supergraph: readFileSync(supergraphPath, "utf8"),
  logging: false,
  graphqlEndpoint: "/graphql",
  landingPage: false,
  graphiql: false,
  maskedErrors: false,
  ...(dedupe
    ? {}
    : { transportEntries: { "*.http": { options: { deduplicateInflightRequests: false } } } }),
  ...(routerRuntime
    ? { unifiedGraphHandler: (await import("@graphql-hive/router-runtime")).unifiedGraphHandler }
    : {}),
});
const server = createServer(gateway);
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(
    `listening ${typeof address === "object" && address ? address.port : port}\n`,
  );
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
  });
}
