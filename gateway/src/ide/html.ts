/** The IDE's HTML page: a mount point, the bundle's two assets and the page config. */
import type { ExampleTab } from "./examples.ts";

export function ideHtml(options: { hash: string; endpoint: string; tabs: ExampleTab[] }): string {
  // `<` is escaped so that no example text can close the script element.
  const config = JSON.stringify({ endpoint: options.endpoint, tabs: options.tabs }).replace(
    /</g,
    "\\u003c",
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pshub GraphQL IDE</title>
<link rel="stylesheet" href="/ide/ide.${options.hash}.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the pshub IDE…</div>
<script id="pshub-ide-config" type="application/json">${config}</script>
<script src="/ide/ide.${options.hash}.js"></script>
</body>
</html>
`;
}
