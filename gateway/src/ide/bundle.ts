/**
 * Bundles the gateway's browser apps — the IDE (GraphiQL + React + graphql-ws client) and the ops
 * console (../console) — with esbuild into one JS and one CSS file each, in memory, once per
 * process. Everything is served by the gateway: no CDN, works offline.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface BrowserBundle {
  js: string;
  css: string;
  /** Content hash, used in the asset URLs so browsers cache them safely. */
  hash: string;
}

/** A memoised bundle of one browser entry (built on first call; a failed build is retried). */
export function browserBundle(entry: URL, name: string): () => Promise<BrowserBundle> {
  let pending: Promise<BrowserBundle> | undefined;
  return () => {
    pending ??= buildBundle(entry, name).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

export const ideBundle = browserBundle(new URL("./client.ts", import.meta.url), "ide");

async function buildBundle(entry: URL, name: string): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    write: false,
    outdir: `/${name}`,
    entryNames: name,
    format: "iife",
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
    jsx: "automatic",
    loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".svg": "dataurl" },
  });
  let js = "";
  let css = "";
  for (const file of result.outputFiles) {
    if (file.path.endsWith(".js")) js = file.text;
    else if (file.path.endsWith(".css")) css = file.text;
  }
  if (!js) throw new Error(`${name} bundle produced no JavaScript`);
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256").update(js).update(css).digest("hex").slice(0, 12);
  return { js, css, hash };
}
