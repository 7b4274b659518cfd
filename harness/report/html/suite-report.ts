/**
 * One suite's part of the page: the Markdown report's sections exactly as `harness report` renders them
 * (renderReport), turned into HTML with each plot's SVG inline in place of its file reference, every table row
 * titled with the `job.done` records its numbers come from, and hash prefixes linked to their records; then the
 * suite's jobs.
 */
import { groupSeries } from "../series.js"
import { renderReport } from "../render.js"
import { jobAnchor, recordAnchor, suiteAnchor } from "./anchors.js"
import { inlineSvg } from "./inline-svg.js"
import { jobsSection } from "./jobs.js"
import { headingId, markdownToHtml, type MarkdownHooks } from "./markdown-blocks.js"
import type { ViewRun, ViewSuite } from "./view.js"

export interface SuiteHeading {
  readonly id: string
  readonly text: string
}

export interface RenderedSuite {
  readonly id: string
  readonly html: string
  /** the report's section headings, for the page's contents */
  readonly headings: ReadonlyArray<SuiteHeading>
}

const hooksFor = (suite: ViewSuite, idPrefix: string, files: ReadonlyArray<{ name: string; content: string }>): MarkdownHooks => {
  const { input } = suite
  const series = groupSeries(input.jobs)
  const jobsId = `${idPrefix}-jobs`
  // longest label first: "rope × nano" must not be taken for a row of "rope"
  const labels = [...series].sort((a, b) => b.label.length - a.label.length)
  const byName = new Map(input.jobs.map((j) => [j.name, j] as const))
  const byHashPrefix = new Map<string, string>()
  const byKeyPrefix = new Map<string, string>()
  for (const j of suite.jobs) {
    if (j.doneHash) byHashPrefix.set(j.doneHash.slice(0, 12), `#${recordAnchor(j.doneHash)}`)
    byKeyPrefix.set(j.row.key.slice(0, 12), `#${jobAnchor(j.row.id)}`)
  }
  const seriesOf = (cell: string) => labels.find((s) => cell === s.label || cell.startsWith(`${s.label} `))
  const jobRowOf = (name: string) => [...suite.jobs].reverse().find((j) => j.row.name === name && j.row.key === byName.get(name)?.key)
  return {
    idPrefix,
    headingOffset: 1,
    figure: (file, id) => {
      const svg = files.find((f) => f.name === file)?.content
      return svg === undefined ? undefined : inlineSvg(svg, id)
    },
    rowRecords: (cell) => {
      const job = byName.get(cell)
      if (job) return job.recordHash ? [job.recordHash] : []
      return (seriesOf(cell)?.jobs ?? []).map((j) => j.recordHash).filter((h) => h.length > 0)
    },
    rowHref: (cell) => {
      const job = byName.get(cell)
      if (job) {
        if (job.recordHash) return `#${recordAnchor(job.recordHash)}`
        const row = jobRowOf(cell)
        return row ? `#${jobAnchor(row.row.id)}` : undefined
      }
      return seriesOf(cell) ? `#${jobsId}` : undefined
    },
    cellHref: (cell) => (/^[0-9a-f]{12}$/.test(cell) ? (byHashPrefix.get(cell) ?? byKeyPrefix.get(cell)) : undefined)
  }
}

export const renderSuite = (suite: ViewSuite, index: number, runs: ReadonlyMap<string, ViewRun>): RenderedSuite => {
  const id = suiteAnchor(index, suite.input.suite)
  const rendered = renderReport(suite.input)
  const body = markdownToHtml(rendered.markdown, hooksFor(suite, id, rendered.files))
  const headings = rendered.markdown
    .split("\n")
    .filter((line) => line.startsWith("## "))
    .map((line) => ({ id: headingId(id, line.slice(3)), text: line.slice(3) }))
  const jobsId = `${id}-jobs`
  return {
    id,
    html: [`<section id="${id}" class="suite">`, body, jobsSection(suite.jobs, runs, jobsId), `</section>`].join("\n"),
    headings: [...headings, { id: jobsId, text: "Jobs" }]
  }
}
