/**
 * The runs behind the page: when each started and finished, on which engine, at which code version, each row
 * anchored (jobs link here) and linked to its `run.begin` record, with the whole environment record on request.
 */
import { anchorPart, recordAnchor, runAnchor, shortHash } from "./anchors.js"
import { describeEngine } from "./engine.js"
import { details, esc, jsonBlock, link, table } from "./elements.js"
import type { ViewRun } from "./view.js"

export const RUNS_ID = "runs"

const engineCell = (environment: unknown, runId: string): string => {
  const engine = describeEngine(environment)
  const facts = engine.details.length > 0 ? `<div class="small">${esc(engine.details.join(" · "))}</div>` : ""
  return `${esc(engine.headline)}${facts}${details("environment record", jsonBlock(environment), `env-${anchorPart(runId)}`)}`
}

export const runsSection = (runs: ReadonlyArray<ViewRun>): string => {
  const rows = runs.map(({ row, beginHash }) => ({
    id: runAnchor(row.id),
    cells: [
      `<code>${esc(row.id)}</code>`,
      esc(row.suite),
      esc(row.startedAt),
      row.finishedAt ? esc(row.finishedAt) : `<span class="muted">not finished</span>`,
      engineCell(row.environment, row.id),
      row.codeVersion ? `<code>${esc(row.codeVersion)}</code>` : `<span class="muted">-</span>`,
      row.gitCommit
        ? `<code title="${esc(row.gitCommit)}">${esc(row.gitCommit.slice(0, 10))}</code>${row.gitDirtyHash ? ` <span class="warn" title="${esc(`uncommitted changes, sha256 ${row.gitDirtyHash}`)}">+ uncommitted changes</span>` : ""}`
        : `<span class="muted">-</span>`,
      beginHash
        ? link(`#${recordAnchor(beginHash)}`, shortHash(beginHash), `run.begin record ${beginHash}`)
        : `<span class="muted">-</span>`
    ]
  }))
  return [
    `<section id="${RUNS_ID}">`,
    `<h2>Runs</h2>`,
    `<p>Each run as its <code>run.begin</code> record has it: the engine that actually ran, the code version that went into the job keys, and the git commit.</p>`,
    rows.length > 0
      ? table({
          head: ["run", "suite", "started", "finished", "engine / backend", "code version", "git commit", "run.begin record"],
          rows,
          className: "runs"
        })
      : `<p class="muted">No runs.</p>`,
    `</section>`
  ].join("\n")
}
