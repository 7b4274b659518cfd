/**
 * The report's Markdown (renderReport's output) to HTML blocks: headings, paragraphs, bullet lists, tables and
 * figures. The HTML view reuses the Markdown report's sections this way instead of rendering their tables a
 * second time, so a section added to render.ts shows up in both. The caller supplies what Markdown cannot say:
 * the inline SVG behind a figure's file name and the ledger records behind a table row.
 */
import { escapeXml } from "../escape.js"
import { inlineHtml, plainText } from "./markdown-inline.js"

export interface MarkdownHooks {
  /** prefixed to every heading id, so that two suites on one page keep distinct ids */
  readonly idPrefix: string
  /** added to each heading's level: the page has its own h1 */
  readonly headingOffset: number
  /** the inline SVG for a figure's file name; undefined leaves the image as a caption-only figure */
  readonly figure: (file: string, idPrefix: string) => string | undefined
  /** the records (full hashes) behind a table row's numbers, from its first cell's text */
  readonly rowRecords: (firstCell: string) => ReadonlyArray<string>
  /** a link target for a cell's text (a record hash prefix, a job name), or undefined */
  readonly cellHref: (cell: string) => string | undefined
  /** the `href` of a row's records (one record: the record; several: where they are listed) */
  readonly rowHref: (firstCell: string) => string | undefined
}

const HEADING = /^(#{1,6}) (.*)$/
const IMAGE = /^!\[([^\]]*)\]\(([^)\s]+)\)$/
const CAPTION = /^\*([^*].*[^*]|[^*])\*$/
const ALIGN_ROW = /^\|(\s*:?-+:?\s*\|)+$/

/** "perplexity-by-evaluation-length": a heading's text as an id fragment. */
const slug = (text: string): string =>
  plainText(text)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "section"

/** The id a heading gets: the page's contents link to it. */
export const headingId = (idPrefix: string, headingMarkdown: string): string => `${idPrefix}-${slug(headingMarkdown)}`

/** The cells of a table line, splitting at pipes that no backslash escapes. */
export const tableCells = (line: string): string[] => {
  const cells: string[] = []
  let cell = ""
  const body = line.trim().replace(/^\|/, "")
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c === "\\" && i + 1 < body.length) {
      cell += c + body[i + 1]
      i++
    } else if (c === "|") {
      cells.push(cell.trim())
      cell = ""
    } else cell += c
  }
  if (cell.trim().length > 0) cells.push(cell.trim())
  return cells
}

const alignmentOf = (spec: string): "left" | "right" | "center" => {
  const s = spec.trim()
  if (s.startsWith(":") && s.endsWith(":")) return "center"
  return s.endsWith(":") ? "right" : "left"
}

const tableHtml = (lines: ReadonlyArray<string>, hooks: MarkdownHooks): string => {
  const header = tableCells(lines[0]!)
  const hasAlign = lines.length > 1 && ALIGN_ROW.test(lines[1]!.trim())
  const align = hasAlign ? tableCells(lines[1]!).map(alignmentOf) : header.map((_, i) => (i === 0 ? "left" : "right"))
  const cls = (i: number) => (align[i] === "left" ? "" : ` class="${align[i]}"`)
  const body = lines.slice(hasAlign ? 2 : 1).map((line) => {
    const cells = tableCells(line)
    const first = plainText(cells[0] ?? "")
    const records = hooks.rowRecords(first)
    const rowHref = hooks.rowHref(first)
    const title = records.length === 0 ? "" : `job.done record${records.length === 1 ? "" : "s"}: ${records.join(", ")}`
    const attrs = records.length === 0 ? "" : ` data-records="${escapeXml(records.join(" "))}" title="${escapeXml(title)}"`
    const tds = cells.map((cell, i) => {
      const href = i === 0 ? rowHref : hooks.cellHref(plainText(cell))
      const content = inlineHtml(cell)
      return `<td${cls(i)}>${href ? `<a href="${escapeXml(href)}">${content}</a>` : content}</td>`
    })
    return `<tr${attrs}>${tds.join("")}</tr>`
  })
  const head = header.map((cell, i) => `<th${cls(i)}>${inlineHtml(cell)}</th>`).join("")
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>\n${body.join("\n")}\n</tbody></table></div>`
}

const figureHtml = (file: string, alt: string, caption: string | null, hooks: MarkdownHooks): string => {
  const id = `${hooks.idPrefix}-figure-${slug(file)}`
  const svg = hooks.figure(file, id)
  const body = svg ?? `<p class="missing">${escapeXml(`plot ${file} was not rendered`)}</p>`
  const label = caption ?? escapeXml(alt)
  return `<figure id="${escapeXml(id)}" data-chart="${escapeXml(file)}">\n${body}\n<figcaption>${label}</figcaption>\n</figure>`
}

/** Whether a line starts a block other than a paragraph (and so ends the paragraph before it). */
const startsBlock = (line: string): boolean =>
  HEADING.test(line) || line.startsWith("|") || line.startsWith("- ") || IMAGE.test(line.trim())

export const markdownToHtml = (markdown: string, hooks: MarkdownHooks): string => {
  const lines = markdown.split("\n")
  const out: string[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (line.trim().length === 0) {
      i++
      continue
    }
    const heading = HEADING.exec(line)
    if (heading) {
      const level = Math.min(6, heading[1]!.length + hooks.headingOffset)
      out.push(`<h${level} id="${escapeXml(headingId(hooks.idPrefix, heading[2]!))}">${inlineHtml(heading[2]!)}</h${level}>`)
      i++
      continue
    }
    if (line.startsWith("|")) {
      const start = i
      while (i < lines.length && lines[i]!.startsWith("|")) i++
      out.push(tableHtml(lines.slice(start, i), hooks))
      continue
    }
    if (line.startsWith("- ")) {
      const items: string[] = []
      while (i < lines.length && lines[i]!.startsWith("- ")) items.push(`<li>${inlineHtml(lines[i++]!.slice(2))}</li>`)
      out.push(`<ul>\n${items.join("\n")}\n</ul>`)
      continue
    }
    const image = IMAGE.exec(line.trim())
    if (image) {
      i++
      // the sections write the caption as the next paragraph, one italic line
      let next = i
      while (next < lines.length && lines[next]!.trim().length === 0) next++
      const caption = next < lines.length ? CAPTION.exec(lines[next]!.trim()) : null
      if (caption) i = next + 1
      out.push(figureHtml(image[2]!, image[1]!, caption ? inlineHtml(caption[1]!) : null, hooks))
      continue
    }
    const paragraph: string[] = []
    while (i < lines.length && lines[i]!.trim().length > 0 && (paragraph.length === 0 || !startsBlock(lines[i]!)))
      paragraph.push(lines[i++]!)
    out.push(`<p>${paragraph.map(inlineHtml).join("\n")}</p>`)
  }
  return out.join("\n")
}
