/**
 * The HTML view as one self-contained document: inline CSS and inline SVG, no script, no font, image or request
 * of any kind (a Content-Security-Policy says so to the browser, so a slip cannot load anything). Pure: the same
 * view gives the same bytes.
 */
import { esc, hashCode, link } from "./elements.js"
import { INTEGRITY_ID, integritySection } from "./integrity.js"
import { RECORDS_ID, recordsSection } from "./records.js"
import { RUNS_ID, runsSection } from "./runs.js"
import { STYLE } from "./style.js"
import { renderSuite } from "./suite-report.js"
import type { HtmlView } from "./view.js"

/** Nothing may load: styles are inline, SVG is inline markup, and there is no script. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

export const renderHtmlView = (view: HtmlView): string => {
  const runs = new Map(view.runs.map((r) => [r.row.id, r] as const))
  const suites = view.suites.map((s, i) => renderSuite(s, i, runs))
  const jobs = view.suites.reduce((n, s) => n + s.jobs.length, 0)
  const contents = [
    `<li>${link(`#${INTEGRITY_ID}`, "Ledger integrity")}</li>`,
    ...suites.map(
      (s, i) =>
        `<li>${link(`#${s.id}`, `Suite ${view.suites[i]!.input.suite}`)}<ol>${s.headings.map((h) => `<li>${link(`#${h.id}`, h.text)}</li>`).join("")}</ol></li>`
    ),
    `<li>${link(`#${RUNS_ID}`, `Runs (${view.runs.length})`)}</li>`,
    `<li>${link(`#${RECORDS_ID}`, `Ledger records (${view.records.length})`)}</li>`
  ]
  return [
    `<!DOCTYPE html>`,
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<meta name="generator" content="fope-harness">`,
    `<title>${esc(view.title)}</title>`,
    `<style>${STYLE}</style>`,
    `</head>`,
    `<body>`,
    `<header class="page">`,
    `<h1>${esc(view.title)}</h1>`,
    `<div><span class="status ${view.verify.ok ? "ok" : "bad"}">${view.verify.ok ? "ledger verified" : "LEDGER NOT VERIFIED"}</span> ` +
      `head record ${hashCode(view.headHash || "(empty ledger)")}</div>`,
    `<div class="small">Ledger <code>${esc(view.ledgerPath)}</code> · ${esc(`${view.suites.length} suite${view.suites.length === 1 ? "" : "s"}, ${view.runs.length} run${view.runs.length === 1 ? "" : "s"}, ${jobs} job${jobs === 1 ? "" : "s"}`)} · written ${esc(view.generatedAt)}</div>`,
    `</header>`,
    `<nav class="contents"><strong>Contents</strong><ol>${contents.join("")}</ol></nav>`,
    `<main>`,
    integritySection(view),
    ...suites.map((s) => s.html),
    runsSection(view.runs),
    recordsSection(view.records, view.suites),
    `</main>`,
    `</body>`,
    `</html>`,
    ``
  ].join("\n")
}
