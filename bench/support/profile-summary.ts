/**
 * `npx tsx bench/support/profile-summary.ts <file.cpuprofile> [top] [--between from-to …]`: where
 * a V8 CPU profile (node --cpu-prof) spends its time — self time per package (node_modules/<name>,
 * our workspace folder, or node's own internals), the top functions by self time and by inclusive
 * time (the samples with the function anywhere on the stack), as shares of the sampled time (idle
 * excluded and shown apart). `--between` keeps only the samples inside the given spans, in µs of
 * the machine's monotonic clock (the clock of a profile's timestamps; bench/subscriptions.ts prints
 * each window's span in it), so setup and teardown stay out. For the #13 notes in bench/RESULTS.md.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

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

const { values: options, positionals } = parseArgs({
  options: { between: { type: "string", multiple: true } },
  allowPositionals: true,
});
const [file, topArg] = positionals;
if (!file) {
  process.stderr.write("usage: profile-summary.ts <file.cpuprofile> [top] [--between from-to …]\n");
  process.exit(1);
}
const spans = (options.between ?? []).map(
  (span) => span.split("-").map(Number) as [number, number],
);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const top = Number(topArg ?? 25);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parentOf.set(child, node.id);
const selfUs = new Map<number, number>();
let at = profile.startTime;
let wall = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  if (spans.length > 0 && !spans.some(([from, to]) => at >= from && at <= to)) return;
  wall += delta;
  selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
});
if (spans.length === 0) wall = profile.endTime - profile.startTime;

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
const inclusive = new Map<string, number>();
function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"} ${packageOf(url, functionName)}${url ? `:${lineNumber + 1}` : ""}`;
}
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url } = node.callFrame;
  if (functionName === "(idle)") {
    idle += us;
    continue;
  }
  total += us;
  const pkg = packageOf(url, functionName);
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  const key = keyOf(node);
  functions.set(key, (functions.get(key) ?? 0) + us);
  // Inclusive: every function on this sample's stack, once.
  const seen = new Set<string>();
  for (let up: number | undefined = id; up !== undefined; up = parentOf.get(up)) {
    const frame = byId.get(up);
    if (!frame || frame.callFrame.functionName === "(root)") continue;
    const name = keyOf(frame);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
}
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
lines.push("", "top functions by inclusive time (on the stack):");
for (const [fn, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top))
  lines.push(`  ${pct(us).padStart(7)}  ${fn}`);
process.stdout.write(`${lines.join("\n")}\n`);
