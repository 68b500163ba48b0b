/** The gateway's /healthz report: every subgraph's /healthz, the schema, and the launcher's view. */
import { healthUrlOf, SUBGRAPHS, type SubgraphName } from "./subgraphs.ts";

export interface SubgraphHealth {
  status: "ok" | "unavailable";
  url: string;
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: "ok" | "unavailable";
  schema: boolean;
  subgraphs: Record<SubgraphName, SubgraphHealth>;
  /** The launcher's supervisor (under `npm start`): service states and restarts. */
  launcher?: unknown;
}

async function launcherView(url: string): Promise<unknown> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return await response.json();
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export async function checkHealth(
  urls: Record<SubgraphName, string>,
  hasSchema: boolean,
  launcherUrl?: string,
): Promise<HealthReport> {
  const launcher = launcherUrl ? launcherView(launcherUrl) : undefined;
  const entries = await Promise.all(
    SUBGRAPHS.map(async (subgraph): Promise<[SubgraphName, SubgraphHealth]> => {
      const url = urls[subgraph.name];
      const started = performance.now();
      try {
        const response = await fetch(healthUrlOf(url), { signal: AbortSignal.timeout(1500) });
        await response.body?.cancel();
        const latencyMs = Math.round(performance.now() - started);
        return [
          subgraph.name,
          response.ok
            ? { status: "ok", url, latencyMs }
            : { status: "unavailable", url, latencyMs, error: `HTTP ${response.status}` },
        ];
      } catch (error) {
        const latencyMs = Math.round(performance.now() - started);
        return [
          subgraph.name,
          { status: "unavailable", url, latencyMs, error: (error as Error).message },
        ];
      }
    }),
  );
  const subgraphs = Object.fromEntries(entries) as Record<SubgraphName, SubgraphHealth>;
  const allUp = entries.every(([, entry]) => entry.status === "ok");
  return {
    status: allUp && hasSchema ? "ok" : "unavailable",
    schema: hasSchema,
    subgraphs,
    ...(launcher ? { launcher: await launcher } : {}),
  };
}
