/**
 * Load generator, forked once per bench run (its own process, so it does not share an event loop
 * with what it measures). For each cell it is sent over IPC it runs `clients` closed-loop clients,
 * each on its own keep-alive connection, each cycling through its own list of request bodies from
 * the start (the lists carry each client's own start offset and filters), for `warmupS` seconds
 * unmeasured and then `durationS` seconds measured. Replies with one result per cell.
 *
 * Plain node:http rather than autocannon: autocannon gives every connection the same request
 * list from the same index, which is what made the old bench measure request sharing.
 */
import { Agent, request } from "node:http";

export interface LoadCell {
  url: string;
  warmupS: number;
  durationS: number;
  /** One list of JSON bodies per client. */
  clients: string[][];
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Transport errors, non-200 answers and answers carrying GraphQL errors. */
  errors: number;
}

function post(agent: Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function runCell(cell: LoadCell): Promise<LoadResult> {
  const url = new URL(cell.url);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const measureFrom = started + cell.warmupS * 1000;
  const end = measureFrom + cell.durationS * 1000;
  const client = async (bodies: string[]) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; performance.now() < end; i++) {
        const body = bodies[i % bodies.length] ?? "";
        const sent = performance.now();
        let failed = false;
        try {
          const answer = await post(agent, url, body);
          failed = answer.status !== 200 || answer.text.includes('"errors":[');
        } catch {
          failed = true;
        }
        const done = performance.now();
        // A request sent inside the window counts, however late it ends (no new one is sent
        // after the window), so slow answers are not dropped from the percentiles.
        if (sent >= measureFrom) {
          latencies.push(done - sent);
          if (failed) errors++;
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(cell.clients.map(client));
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / cell.durationS,
    // NaN does not survive IPC (JSON): no answer at all is reported as p50/p99 -1.
    p50: latencies.length ? percentile(latencies, 0.5) : -1,
    p99: latencies.length ? percentile(latencies, 0.99) : -1,
    errors,
  };
}

if (process.send) {
  process.on("message", (cell: LoadCell | "exit") => {
    if (cell === "exit") process.exit(0);
    void runCell(cell).then((result) => process.send?.(result));
  });
  process.send("ready");
}
