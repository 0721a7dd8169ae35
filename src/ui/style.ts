/** The UI's stylesheet (served as /assets/style.css; no inline styles, so the CSP can forbid them). */
export const STYLE = `
:root { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f4f5f7; }
body { margin: 0; }
[hidden] { display: none !important; }
a { color: #0b62c4; text-decoration: none; } a:hover { text-decoration: underline; }
.top { display: flex; gap: 24px; align-items: center; padding: 10px 24px; background: #1f2a37; }
.top a { color: #e5e9f0; } .brand { font-weight: 700; font-size: 16px; }
main { padding: 16px 24px 48px; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 20px; margin: 8px 0 12px; } h2 { font-size: 15px; margin: 0 0 10px; }
.card { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 14px 16px; margin: 14px 0; }
.muted { color: #6a737d; } .error { color: #b42318; } .empty { padding: 12px 0; }
.badge { display: inline-block; color: #fff; border-radius: 10px; padding: 1px 9px; font-size: 12px; font-weight: 600; vertical-align: middle; }
.counts { display: inline-flex; flex-wrap: wrap; gap: 4px; }
.count { border-left: 4px solid #999; background: #f1f3f5; padding: 0 6px; font-size: 12px; border-radius: 2px; white-space: nowrap; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eceef1; vertical-align: top; }
th { font-size: 12px; color: #57606a; font-weight: 600; background: #fafbfc; }
.tasks-wrap { max-height: 520px; overflow: auto; border: 1px solid #eceef1; border-radius: 4px; }
.tasks-wrap th { position: sticky; top: 0; }
table.runs { border: 1px solid #dde1e6; border-radius: 6px; }
tr:hover td { background: #f8fafc; }
td.name { font-family: ui-monospace, monospace; font-size: 12.5px; word-break: break-all; }
.filters { display: flex; gap: 16px; flex-wrap: wrap; align-items: center; margin: 0 0 10px; }
select, input, button { font: inherit; padding: 3px 6px; border: 1px solid #c9ced6; border-radius: 4px; background: #fff; }
button { cursor: pointer; } button:hover { background: #f1f3f5; }
.pager { display: flex; gap: 12px; align-items: center; margin-top: 10px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
.facts dt { color: #57606a; } .facts dd { margin: 0; }
.summary { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 10px 16px 14px; }
pre { white-space: pre-wrap; word-break: break-word; font: 12.5px/1.4 ui-monospace, monospace; margin: 6px 0; }
.run-message { background: #fff5f5; border-left: 3px solid #d64541; padding: 6px 10px; }
.stack { background: #f6f8fa; padding: 8px 10px; border-radius: 4px; max-height: 320px; overflow: auto; }
.failure summary { cursor: pointer; margin: 6px 0; }
.retried { color: #b45309; font-weight: 700; } .cached { color: #0e7c86; font-weight: 600; }
.timeline-wrap { position: relative; }
.timeline-canvas { display: block; width: 100%; height: 80px; cursor: grab; user-select: none; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; margin-bottom: 6px; align-items: center; }
.swatch { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
.swatch.retry { background: #2f9e62; border-top: 3px solid; height: 7px; }
.tip { position: absolute; z-index: 2; background: #1f2a37; color: #f5f7fa; padding: 6px 9px; border-radius: 4px; font-size: 12px;
  pointer-events: none; max-width: 360px; word-break: break-all; white-space: pre; }
.tip-title { font-weight: 700; white-space: normal; }
.range { position: absolute; top: 0; background: rgba(59, 130, 246, 0.15); border: 1px solid #3b82f6; pointer-events: none; }
.timeline-note { font-size: 12px; margin: 6px 0 0; }
.log-lines { font: 12.5px/1.5 ui-monospace, monospace; max-height: 480px; overflow: auto; border: 1px solid #eceef1; border-radius: 4px; }
.log { display: grid; grid-template-columns: 190px 70px 40px 1fr; gap: 8px; padding: 1px 8px; border-bottom: 1px solid #f3f4f6; }
.log-msg { white-space: pre-wrap; word-break: break-word; } .log-time, .log-src { color: #6a737d; }
.log.warning .log-level { color: #b45309; } .log.error .log-level, .log.critical .log-level { color: #b42318; font-weight: 700; }
.log.debug { color: #6a737d; }
.chip { background: #e8f0fe; border-radius: 12px; padding: 1px 4px 1px 10px; font-size: 12.5px; }
.chip button { border: 0; background: transparent; padding: 0 4px; }
td button { font-size: 12px; padding: 0 6px; }
.crumbs { margin: 0 0 8px; }
`;
