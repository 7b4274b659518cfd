/**
 * The HTML view reuses the Markdown report's sections by converting their Markdown (harness/report/html/
 * markdown-*.ts): what the escapers and markdownTable write must come back as the same text, never as markup,
 * and figures must carry their chart inline with ids of their own.
 */
import { describe, expect, it } from "vitest"
import { markdownCode } from "../../../harness/report/escape.js"
import { inlineSvg } from "../../../harness/report/html/inline-svg.js"
import { markdownToHtml, type MarkdownHooks } from "../../../harness/report/html/markdown-blocks.js"
import { inlineHtml } from "../../../harness/report/html/markdown-inline.js"
import { markdownTable } from "../../../harness/report/markdown-table.js"
import { figure } from "../../../harness/report/sections/plot-helpers.js"
import { elements, parseHtml, textOf } from "./html-dom.js"

const hooks = (overrides: Partial<MarkdownHooks> = {}): MarkdownHooks => ({
  idPrefix: "s0",
  headingOffset: 1,
  figure: () => undefined,
  rowRecords: () => [],
  cellHref: () => undefined,
  rowHref: () => undefined,
  ...overrides
})

const HOSTILE = `a|b\\c <script>alert("x")</script> & 'q' *not em`

describe("inline Markdown to HTML", () => {
  it("renders code spans (any fence), strong and emphasis, and escapes everything else", () => {
    expect(inlineHtml("**Suite:** `quick<start>`")).toBe("<strong>Suite:</strong> <code>quick&lt;start&gt;</code>")
    expect(inlineHtml(markdownCode("a`b"))).toBe("<code>a`b</code>")
    expect(inlineHtml(markdownCode("`edge`"))).toBe("<code>`edge`</code>")
    expect(inlineHtml("*caption: x*")).toBe("<em>caption: x</em>")
    expect(inlineHtml("x &lt;y & z\\|")).toBe("x &lt;y &amp; z|")
    expect(inlineHtml(`<img src=x onerror="y">`)).toBe("&lt;img src=x onerror=&quot;y&quot;&gt;")
  })
})

describe("Markdown blocks to HTML", () => {
  it("gives a table cell back as the text markdownTable was given, hostile or not", () => {
    const html = markdownToHtml(markdownTable(["job", "value"], [[HOSTILE, "1.5"]]), hooks())
    const dom = parseHtml(html)
    expect(elements(dom).some((e) => e.name === "script")).toBe(false)
    const cells = elements(dom).filter((e) => e.name === "td")
    // emphasis pairs as Markdown would pair it; the text a reader sees is unchanged
    expect(cells.map(textOf)).toEqual([HOSTILE.replace(/\s+/g, " "), "1.5"])
    expect(elements(dom).find((e) => e.name === "th" && textOf(e) === "value")?.attributes["class"]).toBe("right")
  })

  it("titles a row with its records and links its first cell and its hash cells", () => {
    const md = markdownTable(
      ["embedding", "record hash"],
      [
        ["rope", "abcdefabcdef"],
        ["other", "-"]
      ]
    )
    const html = markdownToHtml(
      md,
      hooks({
        rowRecords: (cell) => (cell === "rope" ? ["h1", "h2"] : []),
        rowHref: (cell) => (cell === "rope" ? "#jobs" : undefined),
        cellHref: (cell) => (cell === "abcdefabcdef" ? "#record-abcdef" : undefined)
      })
    )
    const rows = elements(parseHtml(html)).filter((e) => e.name === "tr")
    expect(rows[1]!.attributes["data-records"]).toBe("h1 h2")
    expect(rows[1]!.attributes["title"]).toBe("job.done records: h1, h2")
    expect(
      elements(rows[1]!)
        .filter((e) => e.name === "a")
        .map((a) => a.attributes["href"])
    ).toEqual(["#jobs", "#record-abcdef"])
    expect(rows[2]!.attributes["data-records"]).toBeUndefined()
  })

  it("puts a figure's chart inline with its caption, and shifts headings under the page's own", () => {
    const svg = `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="plot-area"><rect/></clipPath></defs><g clip-path="url(#plot-area)"><polyline class="series-line" points="1,2 3,4"/></g></svg>\n`
    const md = ["## Perplexity by evaluation length", "", figure("p.svg", "Perplexity", "p.svg: perplexity <against> length")].join("\n")
    const html = markdownToHtml(md, hooks({ figure: (file, id) => (file === "p.svg" ? inlineSvg(svg, id) : undefined) }))
    expect(html).toContain(`<h3 id="s0-perplexity-by-evaluation-length">Perplexity by evaluation length</h3>`)
    expect(html).not.toContain("<?xml")
    const fig = elements(parseHtml(html)).find((e) => e.name === "figure")!
    expect(fig.attributes["data-chart"]).toBe("p.svg")
    expect(textOf(elements(fig).find((e) => e.name === "figcaption")!)).toBe("p.svg: perplexity <against> length")
    expect(html).toContain(`<clipPath id="s0-figure-p-svg-plot-area">`)
    expect(html).toContain(`clip-path="url(#s0-figure-p-svg-plot-area)"`)
    // a figure whose chart is missing says so instead of showing nothing
    expect(markdownToHtml(md, hooks())).toContain("plot p.svg was not rendered")
  })
})
