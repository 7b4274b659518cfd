/**
 * A chart's standalone SVG file (harness/report/line-chart.ts) made fit to sit inside an HTML page next to others:
 * the XML declaration goes (only a document may start with one), and every id the chart defines is prefixed,
 * because each chart names its clip path "plot-area" and ids must be unique in a page; with duplicates every
 * chart would clip to the first chart's plot area, whose height differs when its legend is longer.
 */

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

export const inlineSvg = (svg: string, idPrefix: string): string => {
  let out = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, "").trim()
  const ids = [...out.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!)
  for (const id of new Set(ids)) {
    const name = escapeRegExp(id)
    // a function, not a replacement string: "$" in an id must stay literal
    const prefixed = (_: string, before: string, after: string) => `${before}${idPrefix}-${id}${after}`
    out = out
      .replace(new RegExp(`(\\sid=")${name}(")`, "g"), prefixed)
      .replace(new RegExp(`(="url\\(#)${name}(\\)")`, "g"), prefixed)
      .replace(new RegExp(`(\\shref="#)${name}(")`, "g"), prefixed)
  }
  return out
}
