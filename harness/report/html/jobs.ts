/**
 * A suite's jobs as the ledger holds them, every attempt: status, cell, engine, configuration in a few words, key
 * and `job.done` record; then per job its whole configuration and every number it recorded, each number linked to
 * (and titled with) the record that holds it.
 */
import type { MetricRow } from "../../../ledger/types.js"
import type { JobConfig } from "../../plan/job.js"
import { jobAnchor, recordAnchor, runAnchor, shortHash } from "./anchors.js"
import { describeEngine } from "./engine.js"
import { details, esc, jsonBlock, link, table } from "./elements.js"
import type { ViewJob, ViewRun } from "./view.js"

/** Where a job's configuration and numbers are: a `<details>` element the jobs table links to. */
export const jobDetailsAnchor = (jobId: string): string => `${jobAnchor(jobId)}-details`

const compact = (value: unknown): string => JSON.stringify(value) ?? ""

/** The configuration in the words a reader compares jobs by; the whole record is one click away. */
export const configurationSummary = (config: unknown): string[] => {
  const c = (config ?? {}) as Partial<JobConfig>
  const lines: string[] = []
  if (c.embedding) {
    const params = c.embedding.params && Object.keys(c.embedding.params).length > 0 ? ` ${compact(c.embedding.params)}` : ""
    lines.push(`embedding ${c.embedding.name}${params}`)
  }
  if (c.model)
    lines.push(
      `model ${c.model.scale}: ${c.model.layers} layers, d ${c.model.dModel}, ${c.model.heads} heads, train length ${c.model.trainLength}`
    )
  if (c.training)
    lines.push(`training ${c.training.steps} steps, batch ${c.training.batchSize} x ${c.training.seqLength}, lr ${c.training.learningRate}`)
  if (c.evaluation) {
    const extensions = (c.evaluation.extensions ?? []).map((e) => (e as { method?: string }).method ?? compact(e))
    lines.push(
      `evaluation at ${(c.evaluation.lengths ?? []).join(", ")}: ${(c.evaluation.tasks ?? []).join(", ")}${extensions.length > 0 ? `; extensions ${extensions.join(", ")}` : ""}`
    )
  }
  if (c.data)
    lines.push(
      `data ${typeof c.data.corpus === "string" ? c.data.corpus : "own corpus"}, ${c.data.tokenizer}${c.data.synthetic ? `, synthetic ${c.data.synthetic.join(", ")}` : ""}`
    )
  return lines
}

const valueLink = (m: MetricRow, hash: string | null): string => {
  const value = String(m.value)
  return hash ? link(`#${recordAnchor(hash)}`, value) : esc(value)
}

/** Titled once around the table rather than on each value: a tooltip shows the nearest title, and a page of 50 jobs stays small. */
const metricsTable = (job: ViewJob): string =>
  `<div title="${esc(job.doneHash ? `job.done record ${job.doneHash}` : "no job.done record")}">` +
  table({
    head: ["metric", "length", "step", "value", "unit"],
    numeric: [1, 2, 3],
    className: "metrics",
    rows: job.metrics.map((m) => ({
      cells: [
        `<code>${esc(m.name)}</code>`,
        m.length === null ? "" : esc(String(m.length)),
        m.step === null ? "" : esc(String(m.step)),
        valueLink(m, job.doneHash),
        esc(m.unit)
      ]
    }))
  }) +
  `</div>`

const jobDetails = (job: ViewJob): string => {
  const { row } = job
  const body = [
    ...(row.error
      ? [`<p class="error">${esc(`${row.status}${row.failureStep !== null ? ` at step ${row.failureStep}` : ""}: ${row.error}`)}</p>`]
      : []),
    `<p>Key ${`<code>${esc(row.key)}</code>`}${job.doneHash ? `, <code>job.done</code> record ${link(`#${recordAnchor(job.doneHash)}`, job.doneHash)}` : ""}${row.reproducibility ? `; reproducible ${esc(row.reproducibility.mode === "bitwise" ? "bitwise" : `within ${row.reproducibility.tolerance}`)}` : ""}.</p>`,
    `<h5>Configuration</h5>`,
    jsonBlock(row.config),
    ...(job.metrics.length > 0 ? [`<h5>Numbers (${job.metrics.length}), each linked to its record</h5>`, metricsTable(job)] : [])
  ].join("\n")
  return details(
    `${row.name} (${row.status}): configuration${job.metrics.length > 0 ? ` and ${job.metrics.length} numbers` : ""}`,
    body,
    jobDetailsAnchor(row.id)
  )
}

export const jobsSection = (jobs: ReadonlyArray<ViewJob>, runs: ReadonlyMap<string, ViewRun>, id: string): string => {
  const rows = jobs.map((job) => {
    const { row } = job
    const config = (row.config ?? {}) as Partial<JobConfig>
    const run = runs.get(row.runId)
    return {
      id: jobAnchor(row.id),
      cells: [
        link(`#${jobDetailsAnchor(row.id)}`, row.name, "configuration and numbers"),
        `<span class="status-${esc(row.status)}">${esc(row.status)}</span>${row.error ? `<div class="small error" title="${esc(row.error)}">${esc(row.error.length > 120 ? `${row.error.slice(0, 119)}…` : row.error)}</div>` : ""}`,
        esc(config.embedding?.label ?? "?"),
        esc(config.model?.scale ?? "?"),
        esc(String(row.seed)),
        esc(String(config.model?.trainLength ?? "?")),
        `${esc(run ? describeEngine(run.row.environment).headline : "unknown")}<div class="small">run ${link(`#${runAnchor(row.runId)}`, row.runId.slice(0, 8), row.runId)}</div>`,
        `<ul class="config">${configurationSummary(row.config)
          .map((l) => `<li>${esc(l)}</li>`)
          .join("")}</ul>`,
        `<code title="${esc(row.key)}">${esc(shortHash(row.key))}</code>`,
        job.doneHash
          ? link(`#${recordAnchor(job.doneHash)}`, shortHash(job.doneHash), `job.done record ${job.doneHash}`)
          : `<span class="muted">-</span>`
      ]
    }
  })
  return [
    `<section id="${esc(id)}" class="jobs">`,
    `<h3>Jobs</h3>`,
    `<p>Every job of the suite in the ledger, every attempt. The report above aggregates, per job name, the latest <code>done</code> one.</p>`,
    table({
      head: ["job", "status", "embedding", "scale", "seed", "train length", "engine / run", "configuration", "key", "job.done record"],
      numeric: [4, 5],
      rows,
      className: "jobs"
    }),
    `<div class="job-details">`,
    ...jobs.map(jobDetails),
    `</div>`,
    `</section>`
  ].join("\n")
}
