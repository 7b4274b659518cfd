/** The report's synthetic-task section: the mean over tasks (flip-flop's extra variants left out) and one table per variant. */
import { describe, expect, it } from "vitest"
import { renderReport } from "../../../harness/report/render.js"
import { SYNTHETIC_PLOT } from "../../../harness/report/sections/synthetic.js"
import type { ReportInput, ReportMetric } from "../../../harness/report/types.js"
import { makeJob, syntheticInput } from "./fixture.js"
import { allElements, parseXml } from "./xml-check.js"

const accuracy = (variant: string, length: number, value: number): ReportMetric => ({
  name: `accuracy.${variant}`,
  value,
  unit: "fraction",
  better: "higher",
  length
})

/** Two embeddings, one seed each, scored on copy and flip-flop (with its sparse and dense variants) at 64 and 128. */
const input = (): ReportInput => {
  const base = syntheticInput()
  const job = (embedding: string, copy: number, flip: number) => {
    const j = makeJob(embedding, 0)
    return {
      ...j,
      metrics: [64, 128].flatMap((L) => [
        accuracy("copy", L, copy / (L / 64)),
        accuracy("flip-flop", L, flip),
        accuracy("flip-flop-sparse", L, 0.99),
        accuracy("flip-flop-dense", L, 0.01)
      ])
    }
  }
  return { ...base, jobs: [job("rope", 0.5, 0.9), job("nope", 0.25, 0.6)] }
}

const row = (markdown: string, heading: string, label: string): string[] => {
  const section = markdown.slice(markdown.indexOf(heading))
  const line = section.split("\n").find((l) => l.startsWith(`| ${label} |`))
  if (!line) throw new Error(`no row ${label} under ${heading}`)
  return line.split("|").map((c) => c.trim())
}

describe("synthetic section", () => {
  const report = renderReport(input())

  it("tabulates the mean over tasks by length, leaving flip-flop's sparse and dense variants out of it", () => {
    // rope: (0.5 + 0.9) / 2 = 0.7 at 64, (0.25 + 0.9) / 2 = 0.575 at 128; with the extra variants it would be 0.6 / 0.5375
    expect(row(report.markdown, "## Synthetic tasks", "rope").slice(4, 6)).toEqual(["0.7000", "0.5750"])
    expect(row(report.markdown, "## Synthetic tasks", "nope").slice(4, 6)).toEqual(["0.4250", "0.3625"])
    expect(report.markdown).toContain("mean over the 2 task(s)")
  })

  it("gives each variant its own table, the extra flip-flop variants marked as not in the mean", () => {
    expect(row(report.markdown, "### `copy`", "nope").slice(4, 6)).toEqual(["0.2500", "0.1250"])
    expect(report.markdown).toContain("### `flip-flop-sparse` (a flip-flop evaluation variant, not in the mean)")
    expect(row(report.markdown, "### `flip-flop-dense`", "rope")[4]).toBe("0.01000")
  })

  it("draws one line per series on the plot", () => {
    const svg = report.files.find((f) => f.name === SYNTHETIC_PLOT)
    expect(svg).toBeDefined()
    const lines = allElements(parseXml(svg!.content)).filter((e) => e.name === "polyline" && e.attributes["class"] === "series-line")
    expect(lines).toHaveLength(2)
  })

  it("is absent from a suite without synthetic tasks", () => {
    const plain = renderReport(syntheticInput())
    expect(plain.markdown).not.toContain("## Synthetic tasks")
    expect(plain.files.map((f) => f.name)).not.toContain(SYNTHETIC_PLOT)
  })
})
