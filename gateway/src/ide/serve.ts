/** Serves the IDE: its page on / and /playground, its hashed bundle under /ide/. */
import type { ServerResponse } from "node:http";
import { ideBundle } from "./bundle.ts";
import type { ExampleTab } from "./examples.ts";
import { ideHtml } from "./html.ts";

/** Answers an IDE route and returns true, or returns false for any other path. */
export async function serveIde(
  path: string,
  res: ServerResponse,
  tabs: ExampleTab[],
): Promise<boolean> {
  if (path === "/" || path === "/playground") {
    const bundle = await ideBundle();
    const html = ideHtml({ hash: bundle.hash, endpoint: "/graphql", tabs });
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
    });
    res.end(html);
    return true;
  }
  if (path.startsWith("/ide/")) {
    const bundle = await ideBundle();
    const asset =
      path === `/ide/ide.${bundle.hash}.js`
        ? { type: "text/javascript; charset=utf-8", body: bundle.js }
        : path === `/ide/ide.${bundle.hash}.css`
          ? { type: "text/css; charset=utf-8", body: bundle.css }
          : undefined;
    if (asset) {
      res.writeHead(200, {
        "content-type": asset.type,
        "cache-control": "public, max-age=31536000, immutable",
      });
      res.end(asset.body);
      return true;
    }
  }
  return false;
}
