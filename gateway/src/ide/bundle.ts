/**
 * Bundles the IDE (GraphiQL + React + graphql-ws client) with esbuild into one JS and one CSS
 * file, in memory, once per process. Everything is served by the gateway: no CDN, works offline.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface IdeBundle {
  js: string;
  css: string;
  /** Content hash, used in the asset URLs so browsers cache them safely. */
  hash: string;
}

let pending: Promise<IdeBundle> | undefined;

export function ideBundle(): Promise<IdeBundle> {
  pending ??= buildIde().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function buildIde(): Promise<IdeBundle> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./client.ts", import.meta.url))],
    bundle: true,
    write: false,
    outdir: "/ide",
    entryNames: "ide",
    format: "iife",
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
    loader: { ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".svg": "dataurl" },
  });
  let js = "";
  let css = "";
  for (const file of result.outputFiles) {
    if (file.path.endsWith(".js")) js = file.text;
    else if (file.path.endsWith(".css")) css = file.text;
  }
  if (!js) throw new Error("IDE bundle produced no JavaScript");
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256").update(js).update(css).digest("hex").slice(0, 12);
  return { js, css, hash };
}
