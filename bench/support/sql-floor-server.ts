/**
 * Bench target (f), a true lower bound: the SQL the resolvers run, issued directly, with the same
 * batching and the same dependencies, and nothing else (no GraphQL parsing, planning, execution
 * or result assembly).
 *
 * At start it runs every request body of BODIES_PATH (a JSON array) once through the monolith
 * schema (monolith.ts: the subgraphs' own resolvers and DataLoaders), then once more recording
 * each statement (text, parameters, when it was sent and when its rows came back). A statement
 * depends on the statement whose rows arrived last before it was sent (one request at a time, so
 * that is what released it); statements sent before any answer arrived form the first wave.
 * Serving a request replays its statements on the pool in that order — each as soon as the one it
 * depends on is back, independent ones concurrently, as the DataLoaders batched them — and answers
 * with the JSON the monolith gave for that body (so the answers compare identical by design; the
 * floor does not assemble them, which is why it is a lower bound).
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createDbClient } from "@pshub/db";
import type postgres from "postgres";
import { createMonolithExecutor } from "./monolith.ts";

interface Statement {
  query: string;
  params: unknown[] | undefined;
  options: postgres.UnsafeQueryOptions | undefined;
  sentAt: number;
  doneAt: number;
  dependsOn: number;
}

interface Plan {
  statements: Statement[];
  answer: string;
}

const databaseUrl = process.env.DATABASE_URL;
const bodiesPath = process.env.BODIES_PATH;
if (!databaseUrl || !bodiesPath) throw new Error("DATABASE_URL and BODIES_PATH are required");

let recording: Statement[] | undefined;
const client = createDbClient(databaseUrl, {
  max: Number(process.env.DB_POOL_MAX ?? 10),
  applicationName: "pshub-bench-sql-floor",
  onStatement: (query, params, options) => {
    const log = recording;
    if (!log) return () => {};
    const statement: Statement = {
      query,
      params,
      options,
      sentAt: performance.now(),
      doneAt: Number.POSITIVE_INFINITY,
      dependsOn: -1,
    };
    log.push(statement);
    return () => {
      statement.doneAt = performance.now();
    };
  },
});

const executeMonolith = createMonolithExecutor(client.db);
const plans = new Map<string, Plan>();
for (const body of JSON.parse(readFileSync(bodiesPath, "utf8")) as string[]) {
  await executeMonolith(body);
  recording = [];
  const answer = await executeMonolith(body);
  const statements = recording;
  recording = undefined;
  for (const [i, statement] of statements.entries()) {
    let latest = -1;
    for (let j = 0; j < i; j++) {
      const other = statements[j] as Statement;
      if (
        other.doneAt <= statement.sentAt &&
        (latest < 0 || other.doneAt > (statements[latest] as Statement).doneAt)
      )
        latest = j;
    }
    statement.dependsOn = latest;
  }
  plans.set(body, { statements, answer });
}

async function replay(plan: Plan): Promise<void> {
  const done: Promise<unknown>[] = [];
  for (const statement of plan.statements) {
    const after = done[statement.dependsOn] ?? Promise.resolve();
    done.push(
      after.then(() =>
        client.sql.unsafe(
          statement.query,
          statement.params as postgres.ParameterOrJSON<never>[],
          statement.options,
        ),
      ),
    );
  }
  await Promise.all(done);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", async () => {
    const plan = plans.get(Buffer.concat(chunks).toString("utf8"));
    if (!plan) {
      res.writeHead(400, { "content-type": "application/json" });
      res.end('{"errors":[{"message":"the SQL floor knows only the bench\'s request bodies"}]}');
      return;
    }
    try {
      await replay(plan);
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(plan.answer),
      });
      res.end(plan.answer);
    } catch (error) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ message: (error as Error).message }] }));
    }
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  const statements = [...plans.values()].reduce((sum, plan) => sum + plan.statements.length, 0);
  process.stdout.write(
    `listening ${typeof address === "object" && address ? address.port : ""}; ${plans.size} bodies, ${statements} statements\n`,
  );
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    void client.close().finally(() => process.exit(0));
  });
}
