/**
 * What a written HTML view must show, checked on its DOM (the page as written, or as Chromium's --dump-dom prints
 * it after loading): the expected section headings, each expected chart as a <figure> holding an <svg> with at
 * least one data line of two or more points, a row and at least one link for every record behind the numbers,
 * the head hash and the verify verdict, unique ids, fragment links that land somewhere, and nothing loaded from
 * elsewhere.
 * Returns the problems found; an empty list means the page passed.
 */
import { elements, hasClass, parseHtml, textOf, type HtmlNode } from "./html-dom.js"

export interface ViewExpectations {
  /** heading texts, each exactly as one h1-h6 reads */
  readonly headings: ReadonlyArray<string>
  /** chart file names, as the figures' data-chart attributes name them */
  readonly charts: ReadonlyArray<string>
  /** full record hashes every one of which needs a row (id record-<hash>) and a link to it */
  readonly records: ReadonlyArray<string>
  readonly headHash: string
  readonly verified: boolean
}

/** The points of an SVG polyline that are pairs of finite numbers. */
const finitePoints = (points: string): number =>
  points
    .trim()
    .split(/\s+/)
    .filter((p) => {
      const xy = p.split(",").map(Number)
      return xy.length === 2 && xy.every(Number.isFinite)
    }).length

const chartProblems = (figures: ReadonlyArray<HtmlNode>, chart: string): string[] => {
  const figure = figures.find((f) => f.attributes["data-chart"] === chart)
  if (!figure) return [`chart ${chart} is missing`]
  const svg = elements(figure).find((e) => e.name === "svg")
  if (!svg) return [`chart ${chart} has no <svg>`]
  const lines = elements(svg).filter((e) => e.name === "polyline" && hasClass(e, "series-line"))
  if (!lines.some((l) => finitePoints(l.attributes["points"] ?? "") >= 2))
    return [`chart ${chart} has no data line (no series-line polyline with two points)`]
  return []
}

export const checkHtmlView = (html: string, expected: ViewExpectations): string[] => {
  const all = elements(parseHtml(html))
  const problems: string[] = []
  const headings = new Set(all.filter((e) => /^h[1-6]$/.test(e.name)).map(textOf))
  for (const h of expected.headings) if (!headings.has(h)) problems.push(`section "${h}" is missing`)
  const figures = all.filter((e) => e.name === "figure")
  for (const chart of expected.charts) problems.push(...chartProblems(figures, chart))
  const idList = all.map((e) => e.attributes["id"]).filter((id): id is string => id !== undefined)
  const ids = new Set(idList)
  // a repeated id makes links land on the first one (and a chart clip to another chart's plot area)
  if (ids.size !== idList.length)
    problems.push(`${idList.length - ids.size} duplicate id(s), e.g. ${idList.find((id, i) => idList.indexOf(id) !== i)}`)
  const hrefs = all.filter((e) => e.name === "a").map((e) => e.attributes["href"] ?? "")
  const linked = new Set(hrefs)
  for (const hash of expected.records) {
    if (!ids.has(`record-${hash}`)) problems.push(`record ${hash} has no row`)
    if (!linked.has(`#record-${hash}`)) problems.push(`no number links to record ${hash}`)
  }
  const dangling = [...linked].filter((h) => h.startsWith("#") && !ids.has(h.slice(1)))
  if (dangling.length > 0) problems.push(`${dangling.length} link(s) point nowhere, e.g. ${dangling.slice(0, 3).join(", ")}`)
  const body = all.find((e) => e.name === "body")
  if (!body || !textOf(body).includes(expected.headHash)) problems.push(`the head hash ${expected.headHash} is not shown`)
  const verdicts = all.map((e) => e.attributes["data-verify"]).filter((v) => v !== undefined)
  if (!verdicts.includes(expected.verified ? "ok" : "failed"))
    problems.push(`the verify verdict "${expected.verified ? "ok" : "failed"}" is not shown (found: ${verdicts.join(", ") || "none"})`)
  // self-contained: nothing fetched, whatever the element
  const external = all.filter(
    (e) =>
      e.attributes["src"] !== undefined ||
      e.name === "link" ||
      e.name === "iframe" ||
      /^(https?:|\/\/|file:)/i.test(e.attributes["href"] ?? "") ||
      /^(https?:|\/\/|file:)/i.test(e.attributes["xlink:href"] ?? "")
  )
  if (external.length > 0) problems.push(`${external.length} element(s) load or link outside the page, e.g. <${external[0]!.name}>`)
  const styles = all
    .filter((e) => e.name === "style")
    .map(textOf)
    .join("\n")
  if (/@import|url\(/i.test(styles)) problems.push("the stylesheet imports or loads something")
  return problems
}
