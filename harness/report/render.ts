/**
 * `renderReport`: the suite's jobs (as read from the ledger) to a Markdown report and the SVG plots it references
 * by relative file name. Pure: no I/O, no clock, no randomness; the same input gives the same bytes.
 */
import { escapeMarkdownText, markdownCode } from "./escape.js"
import { groupSeries } from "./series.js"
import type { RenderedReport, ReportFile, ReportInput } from "./types.js"
import type { ReportContext, Section } from "./sections/context.js"
import { extensionsSection } from "./sections/extensions.js"
import { headerMarkdown } from "./sections/header.js"
import { lossByPositionSection } from "./sections/loss-by-position.js"
import { passkeySection } from "./sections/passkey.js"
import { perplexitySection } from "./sections/perplexity.js"
import { provenanceSection } from "./sections/provenance.js"
import { spectrumSection } from "./sections/spectrum.js"
import { syntheticSection } from "./sections/synthetic.js"
import { trainingSection } from "./sections/training.js"

const SECTIONS: ReadonlyArray<(ctx: ReportContext) => Section> = [
  perplexitySection,
  lossByPositionSection,
  passkeySection,
  syntheticSection,
  extensionsSection,
  trainingSection,
  spectrumSection,
  provenanceSection
]

export const renderReport = (input: ReportInput): RenderedReport => {
  const series = groupSeries(input.jobs)
  const trainLengths = [...new Set(input.jobs.map((j) => j.trainLength))]
  const ctx: ReportContext = { input, series, trainLength: trainLengths.length === 1 ? trainLengths[0]! : null }
  const header = headerMarkdown(ctx)
  if (input.jobs.length === 0) {
    const message =
      `**No jobs of suite ${markdownCode(input.suite)} in the ledger ${markdownCode(input.ledgerPath)}: nothing to report.** ` +
      `Run the suite first (\`harness run ${escapeMarkdownText(input.suite)}\`), or check the suite name and the ledger path.`
    return { markdown: `${header}\n\n${message}\n`, files: [] }
  }
  const sections = SECTIONS.map((section) => section(ctx))
  const parts = [header]
  if (!input.jobs.some((j) => j.status === "done")) {
    parts.push(
      "**No job of this suite has finished (status `done`) yet, so there are no numbers to aggregate.** " +
        "Resume the run (`harness run` skips finished jobs and resumes interrupted ones); the jobs and their status are listed below."
    )
  }
  const files: ReportFile[] = []
  for (const section of sections) {
    if (section.markdown.length > 0) parts.push(section.markdown)
    files.push(...section.files)
  }
  return { markdown: parts.join("\n\n") + "\n", files }
}
