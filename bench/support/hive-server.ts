/**
 * Bench target (b): @graphql-hive/gateway-runtime serving the same supergraph (SUPERGRAPH_PATH,
 * with the bench's subgraph URLs written in) on node:http at PORT. Logs off, like ours.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";

const supergraphPath = process.env.SUPERGRAPH_PATH;
const port = Number(process.env.PORT ?? 0);
if (!supergraphPath) throw new Error("SUPERGRAPH_PATH is required");

const gateway = createGatewayRuntime({
  supergraph: readFileSync(supergraphPath, "utf8"),
  logging: false,
  graphqlEndpoint: "/graphql",
  landingPage: false,
  graphiql: false,
  maskedErrors: false,
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
