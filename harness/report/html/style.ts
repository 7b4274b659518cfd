/**
 * The page's only stylesheet, inline: the page must open from a file with no network. System fonts only (no
 * font files); wide tables scroll inside their box instead of widening the page; a linked record is highlighted
 * when a number's link lands on it (:target), which needs no script.
 */
export const STYLE = `
:root { color-scheme: light; --fg: #1d1f21; --muted: #666b70; --line: #d5d9dd; --head: #f1f3f5; --ok: #1a7f37; --bad: #c62828; --link: #0a58ca; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: #ffffff; }
header.page { padding: 20px 32px 12px; border-bottom: 1px solid var(--line); background: #f7f8fa; }
header.page h1 { margin: 0 0 6px; font-size: 24px; }
main { padding: 8px 32px 48px; max-width: 1500px; }
nav.contents { padding: 8px 32px; border-bottom: 1px solid var(--line); font-size: 13px; }
nav.contents ol { margin: 4px 0; padding-left: 20px; }
nav.contents ol ol { display: flex; flex-wrap: wrap; gap: 0 18px; padding-left: 0; list-style: none; }
h2 { margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); font-size: 20px; }
h3 { margin: 24px 0 8px; font-size: 17px; }
h4, h5 { margin: 16px 0 6px; font-size: 14px; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
code.hash { word-break: break-all; }
pre { background: #f6f8fa; border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 420px; }
.table-wrap { overflow-x: auto; margin: 8px 0 12px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.right, th.right { text-align: right; font-variant-numeric: tabular-nums; }
td.center, th.center { text-align: center; }
tbody tr:nth-child(even) { background: #fafbfc; }
tr:target, details:target, figure:target { outline: 3px solid #f0b400; background: #fff8db; }
tr[data-records] { cursor: help; }
figure { margin: 12px 0 20px; }
figure svg { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.integrity .verdict { font-size: 16px; font-weight: 600; padding: 6px 10px; border-radius: 4px; display: inline-block; }
.integrity.ok .verdict, .status.ok { color: var(--ok); background: #e8f5ec; }
.integrity.bad .verdict, .status.bad { color: var(--bad); background: #fdecea; }
.status { display: inline-block; padding: 2px 8px; border-radius: 4px; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
dt { color: var(--muted); }
dd { margin: 0; }
.small { font-size: 12px; color: var(--muted); }
.muted { color: var(--muted); }
.warn, .error, .status-failed, .status-interrupted { color: var(--bad); }
.status-done { color: var(--ok); }
.status-running { color: #9a6700; }
ul.config { margin: 0; padding-left: 16px; font-size: 12px; }
details { margin: 4px 0; }
details > summary { cursor: pointer; color: var(--link); }
.job-details details { border-left: 3px solid var(--line); padding-left: 8px; }
@media print { details { display: block; } nav.contents { display: none; } }
`
