/**
 * A hand-written SVG 1.1 line chart: one polyline per series, an optional shaded band per series (the spread
 * over seeds), markers at the measured points, dashed vertical reference lines (the training length), axis
 * ticks with labels, axis titles, a title, and the legend in the right margin so it never covers data.
 * Pure string building: no DOM, no chart library.
 */
import { escapeXml } from "./escape.js"
import { formatTicks } from "./format-number.js"
import type { MarkerShape } from "./palette.js"
import { fitAxis, type Axis, type AxisKind } from "./scales.js"

export interface ChartPoint {
  readonly x: number
  readonly y: number
  /** band bottom and top at this x (min and max over seeds); no band where absent */
  readonly lo?: number
  readonly hi?: number
}

export interface ChartSeries {
  readonly id: string
  readonly label: string
  readonly color: string
  readonly marker: MarkerShape
  /** SVG stroke-dasharray; "" or absent is solid */
  readonly dash?: string
  readonly points: ReadonlyArray<ChartPoint>
}

export interface LineChartSpec {
  readonly title: string
  /** longer text for the SVG <desc>: what is plotted and how it was aggregated */
  readonly description: string
  readonly xTitle: string
  readonly yTitle: string
  readonly xScale: Extract<AxisKind, "linear" | "log2">
  readonly yScale: Extract<AxisKind, "linear" | "log10">
  /** x ticks to show instead of computed ones (the evaluation lengths) */
  readonly xTicks?: ReadonlyArray<number>
  readonly xDomain?: readonly [number, number]
  readonly yDomain?: readonly [number, number]
  /**
   * a marker at every point (default), or "sparse": about 8 per series, staggered between series so that curves
   * lying on top of each other stay distinguishable (dense curves such as the training loss)
   */
  readonly markers?: "all" | "sparse"
  readonly verticalLines?: ReadonlyArray<{ readonly x: number; readonly label: string }>
  /** short lines under the legend: what the band and the dashed line mean */
  readonly notes?: ReadonlyArray<string>
  readonly series: ReadonlyArray<ChartSeries>
}

const WIDTH = 860
/** the least height; a long legend makes the chart taller rather than run off the bottom */
const MIN_HEIGHT = 460
const PLOT_LEFT = 80
const PLOT_TOP = 66
const PLOT_RIGHT = WIDTH - 250
const LEGEND_X = PLOT_RIGHT + 20
const LEGEND_CHARS = 24

/** Coordinates with two decimals: enough for the eye, short files. */
const n = (v: number): string => String(Math.round(v * 100) / 100)

const attrs = (a: Record<string, string | number | undefined>): string =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join("")

const text = (x: number, y: number, content: string, extra: Record<string, string | number | undefined> = {}): string =>
  `<text${attrs({ x: n(x), y: n(y), ...extra })}>${escapeXml(content)}</text>`

/** Shortens in the middle: the start names the embedding, the end often says what differs ("+ yarn", "seed2"). */
const truncate = (s: string, max: number): string => {
  if (s.length <= max) return s
  const tail = Math.floor((max - 1) / 2)
  return `${s.slice(0, max - 1 - tail)}…${s.slice(s.length - tail)}`
}

/** Rough width of a label in 12px sans-serif, to keep tick labels from overlapping. */
const labelWidth = (s: string): number => s.length * 7

const markerSvg = (shape: MarkerShape, cx: number, cy: number, color: string): string => {
  const style = { fill: color, stroke: "#ffffff", "stroke-width": 0.8 }
  const poly = (pts: ReadonlyArray<readonly [number, number]>) =>
    `<polygon${attrs({ points: pts.map(([dx, dy]) => `${n(cx + dx)},${n(cy + dy)}`).join(" "), ...style })}/>`
  switch (shape) {
    case "circle":
      return `<circle${attrs({ cx: n(cx), cy: n(cy), r: 3.8, ...style })}/>`
    case "square":
      return `<rect${attrs({ x: n(cx - 3.4), y: n(cy - 3.4), width: 6.8, height: 6.8, ...style })}/>`
    case "triangle":
      return poly([
        [0, -4.6],
        [4.2, 3.2],
        [-4.2, 3.2]
      ])
    case "triangle-down":
      return poly([
        [0, 4.6],
        [4.2, -3.2],
        [-4.2, -3.2]
      ])
    case "diamond":
      return poly([
        [0, -4.8],
        [4.2, 0],
        [0, 4.8],
        [-4.2, 0]
      ])
    case "cross":
      return poly([
        [-1.6, -4.6],
        [1.6, -4.6],
        [1.6, -1.6],
        [4.6, -1.6],
        [4.6, 1.6],
        [1.6, 1.6],
        [1.6, 4.6],
        [-1.6, 4.6],
        [-1.6, 1.6],
        [-4.6, 1.6],
        [-4.6, -1.6],
        [-1.6, -1.6]
      ])
  }
}

/** Tick labels that would collide with the previous kept one are dropped (the grid line stays). */
const keepLabels = (positions: ReadonlyArray<number>, labels: ReadonlyArray<string>, minGap: (label: string) => number): boolean[] => {
  const keep: boolean[] = []
  let last: number | null = null
  positions.forEach((p, i) => {
    const ok = last === null || Math.abs(p - last) >= minGap(labels[i]!)
    keep.push(ok)
    if (ok) last = p
  })
  return keep
}

/** Points a chart can place: finite, positive on log axes; a band edge that is not finite drops that point's band. */
const usablePoints = (spec: LineChartSpec, s: ChartSeries): ChartPoint[] =>
  s.points
    .filter(
      (p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (spec.yScale !== "log10" || p.y > 0) && (spec.xScale !== "log2" || p.x > 0)
    )
    .map((p) => (p.lo !== undefined && p.hi !== undefined && Number.isFinite(p.lo) && Number.isFinite(p.hi) ? p : { x: p.x, y: p.y }))

/** Marker positions: all, or about 8 evenly spaced ones, offset by the series' rank so series do not stack them. */
const markerIndices = (spec: LineChartSpec, count: number, rank: number): number[] => {
  if (spec.markers !== "sparse" || count <= 8) return Array.from({ length: count }, (_, i) => i)
  const shift = (rank + 1) / (spec.series.length + 1)
  return [...new Set(Array.from({ length: 8 }, (_, k) => Math.round(((k + shift) / 8) * (count - 1))))]
}

/** The legend in the right margin, starting at `top`: one entry per series, then the notes. */
const legendBlock = (spec: LineChartSpec, pointsOf: Map<string, ChartPoint[]>, top: number): { svg: string; bottom: number } => {
  const legend: string[] = []
  let y = top + 8
  for (const s of spec.series) {
    const hasData = (pointsOf.get(s.id) ?? []).length > 0
    legend.push(`<g class="legend-entry">`)
    legend.push(`<title>${escapeXml(s.label)}</title>`)
    legend.push(
      `<line${attrs({ x1: LEGEND_X, y1: n(y), x2: LEGEND_X + 30, y2: n(y), stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dash })}/>`
    )
    legend.push(markerSvg(s.marker, LEGEND_X + 15, y, s.color))
    legend.push(text(LEGEND_X + 38, y + 4, truncate(s.label, LEGEND_CHARS) + (hasData ? "" : " (no data)"), { fill: "#222222" }))
    legend.push(`</g>`)
    y += 20
  }
  y += 8
  for (const note of spec.notes ?? []) {
    for (const line of wrap(note, 34)) {
      legend.push(text(LEGEND_X, y + 4, line, { fill: "#555555", "font-size": 11 }))
      y += 15
    }
    y += 4
  }
  return { svg: `<g class="legend">${legend.join("")}</g>`, bottom: y }
}

export const renderLineChart = (spec: LineChartSpec): string => {
  const pointsOf = new Map(spec.series.map((s) => [s.id, usablePoints(spec, s)] as const))
  const dropped = spec.series.reduce((sum, s) => sum + s.points.length - pointsOf.get(s.id)!.length, 0)
  const dropNote = `${dropped} point${dropped === 1 ? "" : "s"} not finite${spec.yScale === "log10" ? " or not positive" : ""} (diverged?) left out; the tables show them.`
  const legend = legendBlock(dropped > 0 ? { ...spec, notes: [...(spec.notes ?? []), dropNote] } : spec, pointsOf, PLOT_TOP)
  const HEIGHT = Math.max(MIN_HEIGHT, Math.ceil(legend.bottom + 70))
  const PLOT = { left: PLOT_LEFT, top: PLOT_TOP, right: PLOT_RIGHT, bottom: HEIGHT - 64 }
  const PLOT_W = PLOT.right - PLOT.left
  const PLOT_H = PLOT.bottom - PLOT.top
  const all = [...pointsOf.values()].flat()
  const xAxis: Axis = fitAxis(spec.xScale, [...all.map((p) => p.x), ...(spec.verticalLines ?? []).map((v) => v.x)], {
    ...(spec.xDomain ? { domain: spec.xDomain } : {}),
    ...(spec.xTicks ? { ticks: spec.xTicks } : {})
  })
  const yValues = all.flatMap((p) => [p.y, ...(p.lo !== undefined ? [p.lo] : []), ...(p.hi !== undefined ? [p.hi] : [])])
  const yAxis: Axis = fitAxis(spec.yScale, yValues, spec.yDomain ? { domain: spec.yDomain } : {})
  const px = (x: number) => PLOT.left + xAxis.fraction(x) * PLOT_W
  const py = (y: number) => PLOT.bottom - yAxis.fraction(y) * PLOT_H
  // a band edge at or below zero cannot be placed on a log axis: clamp it to the bottom of the domain
  const bandY = (y: number) => py(spec.yScale === "log10" && !(y > 0) ? yAxis.domain[0] : y)

  const out: string[] = []
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`)
  out.push(
    `<svg${attrs({
      xmlns: "http://www.w3.org/2000/svg",
      version: "1.1",
      width: WIDTH,
      height: HEIGHT,
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      "font-family": "Helvetica, Arial, sans-serif",
      "font-size": 12
    })}>`
  )
  out.push(`<title>${escapeXml(spec.title)}</title>`)
  out.push(`<desc>${escapeXml(spec.description)}</desc>`)
  out.push(`<defs><clipPath id="plot-area"><rect${attrs({ x: PLOT.left, y: PLOT.top, width: PLOT_W, height: PLOT_H })}/></clipPath></defs>`)
  out.push(`<rect${attrs({ x: 0, y: 0, width: WIDTH, height: HEIGHT, fill: "#ffffff" })}/>`)
  out.push(text(PLOT.left + PLOT_W / 2, 26, spec.title, { "text-anchor": "middle", "font-size": 16, "font-weight": "bold" }))

  // grid and ticks
  const grid: string[] = []
  const tickMarks: string[] = []
  const xLabels = formatTicks(xAxis.ticks)
  const xKeep = keepLabels(xAxis.ticks.map(px), xLabels, (l) => labelWidth(l) + 10)
  xAxis.ticks.forEach((t, i) => {
    const x = px(t)
    grid.push(`<line${attrs({ x1: n(x), y1: PLOT.top, x2: n(x), y2: PLOT.bottom })}/>`)
    tickMarks.push(`<line${attrs({ x1: n(x), y1: PLOT.bottom, x2: n(x), y2: PLOT.bottom + 5 })}/>`)
    if (xKeep[i]) tickMarks.push(text(x, PLOT.bottom + 19, xLabels[i]!, { "text-anchor": "middle", stroke: "none", fill: "#222222" }))
  })
  const yLabels = formatTicks(yAxis.ticks)
  const yKeep = keepLabels(yAxis.ticks.map(py), yLabels, () => 15)
  yAxis.ticks.forEach((t, i) => {
    const y = py(t)
    grid.push(`<line${attrs({ x1: PLOT.left, y1: n(y), x2: PLOT.right, y2: n(y) })}/>`)
    tickMarks.push(`<line${attrs({ x1: PLOT.left - 5, y1: n(y), x2: PLOT.left, y2: n(y) })}/>`)
    if (yKeep[i]) tickMarks.push(text(PLOT.left - 8, y + 4, yLabels[i]!, { "text-anchor": "end", stroke: "none", fill: "#222222" }))
  })
  out.push(`<g class="grid" stroke="#e3e3e3" stroke-width="1">${grid.join("")}</g>`)

  // reference lines (training length), labelled above the plot area where no data can be
  for (const v of spec.verticalLines ?? []) {
    if (!(xAxis.fraction(v.x) >= 0 && xAxis.fraction(v.x) <= 1)) continue
    const x = px(v.x)
    out.push(
      `<line${attrs({ class: "reference-line", x1: n(x), y1: PLOT.top - 4, x2: n(x), y2: PLOT.bottom, stroke: "#444444", "stroke-width": 1.3, "stroke-dasharray": "6 4" })}/>`
    )
    out.push(text(x, PLOT.top - 9, v.label, { "text-anchor": "middle", fill: "#444444", "font-size": 11 }))
  }

  // data: bands first so every line draws over every band
  const data: string[] = []
  const markers: string[] = []
  for (const s of spec.series) {
    const pts = pointsOf.get(s.id)!
    const banded = pts.filter((p) => p.lo !== undefined && p.hi !== undefined)
    if (banded.length >= 2 && banded.some((p) => p.hi! > p.lo!)) {
      const upper = banded.map((p) => `${n(px(p.x))},${n(bandY(p.hi!))}`)
      const lower = [...banded].reverse().map((p) => `${n(px(p.x))},${n(bandY(p.lo!))}`)
      data.push(
        `<polygon${attrs({ class: "series-band", "data-series": s.id, points: [...upper, ...lower].join(" "), fill: s.color, "fill-opacity": 0.16, stroke: "none" })}/>`
      )
    }
  }
  for (const s of spec.series) {
    const pts = pointsOf.get(s.id)!
    data.push(
      `<polyline${attrs({
        class: "series-line",
        "data-series": s.id,
        points: pts.map((p) => `${n(px(p.x))},${n(py(p.y))}`).join(" "),
        fill: "none",
        stroke: s.color,
        "stroke-width": 2,
        "stroke-linejoin": "round",
        "stroke-linecap": "round",
        "stroke-dasharray": s.dash
      })}/>`
    )
    for (const i of markerIndices(spec, pts.length, spec.series.indexOf(s))) {
      const p = pts[i]!
      // markers are drawn unclipped (a point on the frame stays whole), but never outside the plot area
      const inside = [xAxis.fraction(p.x), yAxis.fraction(p.y)].every((f) => f >= -1e-9 && f <= 1 + 1e-9)
      if (inside) markers.push(markerSvg(s.marker, px(p.x), py(p.y), s.color))
    }
  }
  out.push(`<g clip-path="url(#plot-area)">${data.join("")}</g>`)

  // frame, ticks, axis titles
  out.push(
    `<rect${attrs({ x: PLOT.left, y: PLOT.top, width: PLOT_W, height: PLOT_H, fill: "none", stroke: "#333333", "stroke-width": 1 })}/>`
  )
  out.push(`<g class="ticks" stroke="#333333" stroke-width="1">${tickMarks.join("")}</g>`)
  out.push(`<g class="markers">${markers.join("")}</g>`)
  out.push(text(PLOT.left + PLOT_W / 2, HEIGHT - 20, spec.xTitle, { "text-anchor": "middle", "font-size": 13 }))
  const yTitleX = 22
  const yTitleY = PLOT.top + PLOT_H / 2
  out.push(
    text(yTitleX, yTitleY, spec.yTitle, { "text-anchor": "middle", "font-size": 13, transform: `rotate(-90 ${yTitleX} ${n(yTitleY)})` })
  )

  out.push(legend.svg)
  out.push(`</svg>`)
  return out.join("\n") + "\n"
}

/** Greedy word wrap for legend notes. */
const wrap = (s: string, width: number): string[] => {
  const lines: string[] = []
  let line = ""
  for (const word of s.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line.length > 0 ? `${line} ${word}` : word
  }
  if (line.length > 0) lines.push(line)
  return lines
}
