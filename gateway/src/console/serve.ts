/**
 * Serves the ops console: its page on /ops and every /ops/… client route (the app routes in the
 * browser), its hashed bundle under /ops/assets/. Bundled like the IDE (../ide/bundle.ts).
 */
import type { ServerResponse } from "node:http";
import { browserBundle } from "../ide/bundle.ts";
import { consoleHtml } from "./html.ts";

export const consoleBundle = browserBundle(new URL("./client.tsx", import.meta.url), "console");

/** Answers a console route and returns true, or returns false for any other path. */
export async function serveConsole(path: string, res: ServerResponse): Promise<boolean> {
  if (path !== "/ops" && !path.startsWith("/ops/")) return false;
  const bundle = await consoleBundle();
  if (path.startsWith("/ops/assets/")) {
    const asset =
      path === `/ops/assets/console.${bundle.hash}.js`
        ? { type: "text/javascript; charset=utf-8", body: bundle.js }
        : path === `/ops/assets/console.${bundle.hash}.css`
          ? { type: "text/css; charset=utf-8", body: bundle.css }
          : undefined;
    if (!asset) return false;
    res.writeHead(200, {
      "content-type": asset.type,
      "cache-control": "public, max-age=31536000, immutable",
    });
    res.end(asset.body);
    return true;
  }
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" });
  res.end(consoleHtml({ hash: bundle.hash, css: bundle.css !== "", endpoint: "/graphql" }));
  return true;
}
