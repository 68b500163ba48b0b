/**
 * Load generator, run in its own process so it does not share an event loop with what it
 * measures: autocannon with `connections` clients cycling through the request mix for
 * `duration` seconds. Reads its config as JSON from argv[2]; prints one JSON line.
 */
import autocannon from "autocannon";

interface LoadConfig {
  url: string;
  connections: number;
  duration: number;
  bodies: string[];
}

const config = JSON.parse(process.argv[2] ?? "{}") as LoadConfig;
let graphqlErrors = 0;

const result = await autocannon({
  url: config.url,
  connections: config.connections,
  duration: config.duration,
  method: "POST",
  headers: { "content-type": "application/json" },
  requests: config.bodies.map((body) => ({
    method: "POST" as const,
    body,
    onResponse: (_status: number, responseBody: string) => {
      if (responseBody.startsWith('{"errors"') || responseBody.includes('"errors":['))
        graphqlErrors++;
    },
  })),
});

process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + graphqlErrors,
    non2xx: result.non2xx,
    graphqlErrors,
  })}\n`,
);
