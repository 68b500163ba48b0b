/**
 * `npx tsx bench/support/profile-summary.ts <file.cpuprofile> [top]`: where a V8 CPU profile
 * (node --cpu-prof) spends its time — self time per package (node_modules/<name>, our workspace
 * folder, or node's own internals) and the top functions by self time, as shares of the sampled
 * time (idle excluded and shown apart). For the #13 notes in bench/RESULTS.md.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: profile-summary.ts <file.cpuprofile> [top]\n");
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

function packageOf(url: string, name: string): string {
  if (name === "(idle)" || name === "(program)" || name === "(garbage collector)") return name;
  if (!url) return "(native / V8)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return "node: internals";
  const repo =
    /\/(gateway|subgraphs\/[a-z]+|db|cdc)\/src\/|\/(bench)\/(?:support\/|[a-z-]+\.ts)/.exec(url);
  return repo ? `pshub ${repo[1] ?? repo[2]}` : url;
}

let total = 0;
let idle = 0;
const packages = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === "(idle)") {
    idle += us;
    continue;
  }
  total += us;
  const pkg = packageOf(url, functionName);
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  const key = `${functionName || "(anonymous)"} ${pkg}${url ? `:${lineNumber + 1}` : ""}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
}
const wall = profile.endTime - profile.startTime;
const pct = (us: number) => `${((us / total) * 100).toFixed(1)} %`;
process.stdout.write(
  `${file}\nwall ${(wall / 1e6).toFixed(1)} s, busy ${(total / 1e6).toFixed(1)} s (${((total / wall) * 100).toFixed(0)} % of one core), idle ${(idle / 1e6).toFixed(1)} s\n\nself time by package (share of busy):\n`,
);
const lines: string[] = [];
for (const [pkg, us] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, top))
  lines.push(`  ${pct(us).padStart(7)}  ${pkg}`);
lines.push("", "top functions by self time:");
for (const [fn, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
  lines.push(`  ${pct(us).padStart(7)}  ${fn}`);
process.stdout.write(`${lines.join("\n")}\n`);
