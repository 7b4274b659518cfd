/**
 * The chain records behind everything on the page, in chain order: each row's id is its record hash, so every
 * number's link lands on the record that holds it; `harness ledger export` prints the same records in full.
 */
import { jobAnchor, recordAnchor, runAnchor } from "./anchors.js"
import { esc, link, table } from "./elements.js"
import type { ViewRecord, ViewSuite } from "./view.js"

export const RECORDS_ID = "records"

export const recordsSection = (records: ReadonlyArray<ViewRecord>, suites: ReadonlyArray<ViewSuite>): string => {
  const jobNames = new Map(suites.flatMap((s) => s.jobs.map((j) => [j.row.id, j.row.name] as const)))
  const rows = records.map((r) => ({
    id: recordAnchor(r.hash),
    cells: [
      esc(String(r.seq)),
      `<code>${esc(r.kind)}</code>`,
      esc(r.at),
      r.jobId !== null
        ? link(`#${jobAnchor(r.jobId)}`, jobNames.get(r.jobId) ?? r.jobId)
        : r.runId !== null
          ? `run ${link(`#${runAnchor(r.runId)}`, r.runId)}`
          : "",
      `<code class="hash">${esc(r.hash)}</code>`
    ]
  }))
  return [
    `<section id="${RECORDS_ID}">`,
    `<h2>Ledger records</h2>`,
    `<p>The hash-chained records behind the runs and jobs above (${records.length}). A number's link lands on its <code>job.done</code> record; ` +
      `<code>harness ledger export</code> prints every record in full.</p>`,
    table({ head: ["seq", "kind", "at", "run / job", "record hash"], numeric: [0], rows, className: "records" }),
    `</section>`
  ].join("\n")
}
