/** The ops console's HTML page: a mount point, the bundle's assets, the page config and its styles. */

export function consoleHtml(options: { hash: string; css: boolean; endpoint: string }): string {
  const config = JSON.stringify({ endpoint: options.endpoint }).replace(/</g, "\\u003c");
  const css = options.css
    ? `<link rel="stylesheet" href="/ops/assets/console.${options.hash}.css">\n`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pshub ops console</title>
${css}<style>${STYLES}</style>
</head>
<body>
<div id="console">Loading the pshub ops console…</div>
<script id="pshub-console-config" type="application/json">${config}</script>
<script src="/ops/assets/console.${options.hash}.js"></script>
</body>
</html>
`;
}

const STYLES = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
body { margin: 0; }
header { display: flex; gap: 16px; align-items: center; padding: 8px 16px; background: #1d2330; color: #fff; }
header a { color: #cfd6e4; text-decoration: none; } header a.active { color: #fff; font-weight: 600; }
header .auth { margin-left: auto; display: flex; gap: 8px; align-items: center; }
header input { width: 320px; }
main { padding: 16px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
tbody tr { cursor: pointer; } tbody tr:hover { background: #eef3ff; }
tr.fresh { animation: fresh 3s ease-out; } @keyframes fresh { from { background: #fff6c2; } }
.filters { display: flex; gap: 12px; align-items: center; margin-bottom: 12px; flex-wrap: wrap; }
.sev { padding: 1px 6px; border-radius: 3px; font-size: 12px; font-weight: 600; }
.sev-CRITICAL { background: #b3261e; color: #fff; } .sev-HIGH { background: #f08c00; color: #fff; }
.sev-MEDIUM { background: #ffd43b; } .sev-LOW { background: #dee2e6; }
.overdue { color: #b3261e; font-weight: 600; }
.card { background: #fff; padding: 12px 16px; margin-bottom: 12px; border: 1px solid #e3e6ec; }
dl { display: grid; grid-template-columns: 160px 1fr; gap: 4px 12px; margin: 0; } dt { color: #5c6370; }
pre { background: #f0f2f5; padding: 8px; overflow: auto; max-height: 320px; }
.actions { display: flex; gap: 16px; flex-wrap: wrap; } .actions form { display: flex; gap: 6px; }
.error { color: #b3261e; } .notice { color: #2b8a3e; }
.live { font-size: 12px; color: #5c6370; }
.muted { color: #5c6370; } .hint { color: #5c6370; }
input.search { width: 560px; padding: 4px 6px; }
.ext-ids { display: inline-flex; gap: 6px; flex-wrap: wrap; }
.ext { font-size: 12px; padding: 1px 6px; border-radius: 3px; background: #eef3ff; white-space: nowrap; }
.ext-SALESFORCE { background: #e3f2fd; } .ext-PSA { background: #f3e8ff; } .ext-ERP { background: #e6f4ea; }
ol.timeline { list-style: none; margin: 0; padding: 0 0 0 12px; border-left: 3px solid #c5cde0; }
ol.timeline li { display: grid; grid-template-columns: 260px 1fr; gap: 12px; padding: 8px 0 8px 12px; position: relative; }
ol.timeline li::before { content: ""; position: absolute; left: -8px; top: 14px; width: 10px; height: 10px; border-radius: 50%; background: #3b6fd8; }
ol.timeline .when { color: #5c6370; font-variant-numeric: tabular-nums; }
code.cursor { font-size: 11px; white-space: pre-wrap; word-break: break-all; display: block; max-width: 280px; }
.resync { margin-top: 8px; } .resync ul { margin: 6px 0 0 0; }
.kpi-body { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
.kpi-figures { flex: 1; min-width: 420px; overflow-x: auto; } .kpi-figures td { font-variant-numeric: tabular-nums; }
`;
