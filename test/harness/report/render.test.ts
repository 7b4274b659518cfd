import { describe, expect, it } from "vitest"
import { renderReport } from "../../../harness/report/render.js"
import type { ReportInput } from "../../../harness/report/types.js"
import { allElements, parseXml } from "./xml-check.js"
import { EMBEDDINGS, LENGTHS, makeJob, perplexityOf, syntheticInput } from "./fixture.js"

const rowOf = (markdown: string, heading: string, label: string): string => {
  const section = markdown.slice(markdown.indexOf(heading))
  const row = section.split("\n").find((line) => line.startsWith(`| ${label} |`))
  if (!row) throw new Error(`no row "${label}" under "${heading}"`)
  return row
}

const seriesLines = (svg: string) =>
  allElements(parseXml(svg)).filter((e) => e.name === "polyline" && e.attributes["class"] === "series-line")

describe("renderReport", () => {
  const input = syntheticInput()
  const report = renderReport(input)

  it("puts the mean ± sd over seeds, with n, in the perplexity table", () => {
    // rope at length 128: seeds give 30 and 32, mean 31, sample sd sqrt(2) = 1.414
    expect(perplexityOf("rope", 0, 128)).toBe(30)
    expect(perplexityOf("rope", 1, 128)).toBe(32)
    const row = rowOf(report.markdown, "## Perplexity by evaluation length", "rope")
    const cells = row.split("|").map((c) => c.trim())
    // | rope | 64 | 2 | len64 | len128 | len256 |
    expect(cells[2]).toBe("64")
    expect(cells[3]).toBe("2")
    expect(cells[5]).toBe("31.00 ± 1.4 (n=2)")
    expect(report.markdown).toContain("| embedding | train length | seeds | 64 (train) | 128 (2x) | 256 (4x) |")
  })

  it("lists every job with its key and record-hash prefix, failed jobs too", () => {
    for (const job of input.jobs) {
      expect(report.markdown).toContain(job.recordHash.slice(0, 12))
      expect(report.markdown).toContain(job.key.slice(0, 12))
      expect(report.markdown).not.toContain(job.recordHash.slice(0, 13))
    }
    expect(report.markdown).toContain(input.ledgerHeadHash)
    expect(report.markdown).toContain("wasm (2 threads, XNNPACK)")
  })

  it("aggregates only done jobs: the failed fope seed does not change the seed count", () => {
    expect(rowOf(report.markdown, "## Perplexity by evaluation length", "fope").split("|")[3]!.trim()).toBe("2")
    expect(rowOf(report.markdown, "## Appendix: Provenance", "synthetic/fope/nano/seed2")).toContain("failed")
  })

  it("renders the sections the data calls for, each plot referenced by its file name", () => {
    const names = report.files.map((f) => f.name)
    expect(names).toEqual([
      "perplexity-by-length.svg",
      "loss-by-position-256.svg",
      "passkey-accuracy.svg",
      "perplexity-extensions.svg",
      "training-loss.svg"
    ])
    for (const name of names) expect(report.markdown).toContain(`](${name})`)
    for (const heading of ["## Passkey retrieval", "### pi", "### yarn", "## Training", "## Spectrum damage"])
      expect(report.markdown).toContain(heading)
    // NoPE has no rotary spectrum: its spectrum row is all "-"
    expect(rowOf(report.markdown, "## Spectrum damage", "nope")).toBe("| nope | 2 | - | - | - |")
    expect(rowOf(report.markdown, "## Spectrum damage", "rope")).toContain("0.3000 ± 0 (n=2)")
  })

  it("writes well-formed standalone SVG 1.1 with one line per embedding", () => {
    for (const file of report.files) {
      const root = parseXml(file.content)
      expect(root.name).toBe("svg")
      expect(root.attributes["xmlns"]).toBe("http://www.w3.org/2000/svg")
      expect(root.attributes["version"]).toBe("1.1")
      expect(root.attributes["viewBox"]).toMatch(/^0 0 \d+ \d+$/)
      expect(Number(root.attributes["width"])).toBeGreaterThan(0)
      expect(Number(root.attributes["height"])).toBeGreaterThan(0)
      expect(root.children.find((c) => c.name === "title")?.text.length).toBeGreaterThan(0)
      const lines = seriesLines(file.content)
      if (file.name === "perplexity-extensions.svg")
        expect(lines).toHaveLength(6) // rope and fope x {none, pi, yarn}
      else expect(lines.map((l) => l.attributes["data-series"])).toEqual(EMBEDDINGS.map((e) => JSON.stringify([e, "nano"])))
    }
  })

  it("plots every length, and marks the training length with a dashed line", () => {
    const svg = report.files.find((f) => f.name === "perplexity-by-length.svg")!.content
    const elements = allElements(parseXml(svg))
    const line = seriesLines(svg)[0]!
    expect(line.attributes["points"]!.split(" ")).toHaveLength(LENGTHS.length)
    const reference = elements.filter((e) => e.attributes["class"] === "reference-line")
    expect(reference).toHaveLength(1)
    expect(reference[0]!.attributes["stroke-dasharray"]).toBeTruthy()
    const labels = elements.filter((e) => e.name === "text").map((e) => e.text)
    for (const l of LENGTHS) expect(labels).toContain(String(l))
    expect(labels).toContain("train length 64")
    // the higher perplexity of NoPE at 256 sits higher on the plot (smaller y) than FoPE's
    const lastY = (id: string) =>
      Number(
        seriesLines(svg)
          .find((l) => l.attributes["data-series"] === id)!
          .attributes["points"]!.split(" ")
          .at(-1)!
          .split(",")[1]
      )
    expect(lastY(JSON.stringify(["nope", "nano"]))).toBeLessThan(lastY(JSON.stringify(["fope", "nano"])))
  })

  it("is deterministic", () => {
    expect(renderReport(syntheticInput())).toEqual(report)
  })

  it("shows '-' for a length that does not apply, and a lone value without n for a single job", () => {
    const base = syntheticInput()
    const jobs = base.jobs.map((j) =>
      j.cell.embedding === "nope"
        ? { ...j, metrics: j.metrics.filter((m) => !(m.name === "perplexity" && m.length === 256)) }
        : j.cell.embedding === "fope" && j.cell.seed === 1
          ? { ...j, metrics: j.metrics.filter((m) => !(m.name === "perplexity" && m.length === 128)) }
          : j
    )
    const r = renderReport({ ...base, jobs })
    const nope = rowOf(r.markdown, "## Perplexity by evaluation length", "nope")
      .split("|")
      .map((c) => c.trim())
    expect(nope[6]).toBe("-")
    const fope = rowOf(r.markdown, "## Perplexity by evaluation length", "fope")
      .split("|")
      .map((c) => c.trim())
    expect(fope[5]).toBe("22.00")
    // the plot still has one line per embedding, NoPE's with one point fewer
    const svg = r.files.find((f) => f.name === "perplexity-by-length.svg")!.content
    expect(seriesLines(svg)[0]!.attributes["points"]!.split(" ")).toHaveLength(2)
  })

  it("reports a diverged (infinite) value in the table and keeps it out of the plot", () => {
    const base = syntheticInput()
    const jobs = base.jobs.map((j) =>
      j.cell.embedding === "nope" && j.cell.seed === 1
        ? {
            ...j,
            metrics: j.metrics.map((m) => (m.name === "perplexity" && m.length === 256 ? { ...m, value: Number.POSITIVE_INFINITY } : m))
          }
        : j
    )
    const r = renderReport({ ...base, jobs })
    expect(rowOf(r.markdown, "## Perplexity by evaluation length", "nope")).toContain("| inf (n=2, 1 not finite) |")
    const svg = r.files.find((f) => f.name === "perplexity-by-length.svg")!.content
    expect(svg).not.toMatch(/NaN|Infinity/)
    const legendText = allElements(parseXml(svg))
      .filter((e) => e.name === "text")
      .map((e) => e.text)
      .join(" ")
    expect(legendText).toContain("1 point not finite or not positive (diverged?) left out")
    expect(seriesLines(svg)[0]!.attributes["points"]!.split(" ")).toHaveLength(2)
  })

  it("escapes hostile names in SVG and Markdown", () => {
    const evil = 'a<b>&"c"|d\u0001'
    const job = { ...makeJob("rope", 0), cell: { embedding: evil, scale: "nano", seed: 0 }, name: `x/${evil}` }
    const r = renderReport({ ...syntheticInput(), suite: "s&<t>", jobs: [job] })
    for (const file of r.files) {
      const texts = allElements(parseXml(file.content))
        .filter((e) => e.name === "text")
        .map((e) => e.text)
      expect(texts.some((t) => t.startsWith('a<b>&"c"|d'))).toBe(true)
    }
    expect(r.markdown).toContain('| a&lt;b>&"c"\\|d')
    expect(r.markdown).not.toContain("<b>")
  })

  it("labels rows embedding x scale when the suite has several scales", () => {
    const jobs = [
      makeJob("rope", 0),
      { ...makeJob("rope", 0), cell: { embedding: "rope", scale: "micro", seed: 0 }, name: "synthetic/rope/micro/seed0" }
    ]
    const r = renderReport({ ...syntheticInput(), jobs })
    expect(r.markdown).toContain("| rope × nano |")
    expect(r.markdown).toContain("| rope × micro |")
  })
})

describe("renderReport on empty or unfinished input", () => {
  const empty: ReportInput = { ...syntheticInput(), jobs: [] }

  it("says clearly that there is nothing to report, without throwing", () => {
    const r = renderReport(empty)
    expect(r.files).toEqual([])
    expect(r.markdown).toContain("No jobs of suite `synthetic`")
    expect(r.markdown).toContain("harness run synthetic")
  })

  it("says no job has finished when none is done, and still lists them", () => {
    const r = renderReport({ ...syntheticInput(), jobs: [makeJob("rope", 0, "interrupted"), makeJob("fope", 0, "running")] })
    expect(r.markdown).toContain("No job of this suite has finished")
    expect(r.markdown).toContain("## Appendix: Provenance")
    expect(r.markdown).toContain("interrupted")
    expect(r.files).toEqual([])
  })
})
