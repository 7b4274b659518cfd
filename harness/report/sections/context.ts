/** What every report section receives, and what it gives back. */
import type { Series } from "../series.js"
import type { ReportFile, ReportInput } from "../types.js"

export interface ReportContext {
  readonly input: ReportInput
  readonly series: ReadonlyArray<Series>
  /** the one training length of the suite, or null when its jobs trained at several */
  readonly trainLength: number | null
}

export interface Section {
  /** Markdown, starting with its "## " heading; "" when the section has no data */
  readonly markdown: string
  readonly files: ReadonlyArray<ReportFile>
}

export const emptySection: Section = { markdown: "", files: [] }
