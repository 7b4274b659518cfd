/**
 * Okabe & Ito's colour-blind-safe palette (Okabe, Ito 2008, "Color Universal Design"), ordered for contrast on
 * white: yellow last because it is faint on white. Markers and dash patterns add a second, colour-free cue.
 */
export const OKABE_ITO: ReadonlyArray<string> = [
  "#0072B2", // blue
  "#E69F00", // orange
  "#009E73", // bluish green
  "#D55E00", // vermillion
  "#CC79A7", // reddish purple
  "#56B4E9", // sky blue
  "#000000", // black
  "#F0E442" // yellow
]

export type MarkerShape = "circle" | "square" | "triangle" | "diamond" | "triangle-down" | "cross"

export const MARKERS: ReadonlyArray<MarkerShape> = ["circle", "square", "triangle", "diamond", "triangle-down", "cross"]

/** Dash patterns (SVG stroke-dasharray), used to tell extensions of one embedding apart. "" is solid. */
export const DASHES: ReadonlyArray<string> = ["", "7 4", "2 3", "9 3 2 3", "4 2", "12 4"]

export const colorAt = (i: number): string => OKABE_ITO[i % OKABE_ITO.length]!
export const markerAt = (i: number): MarkerShape => MARKERS[i % MARKERS.length]!
export const dashAt = (i: number): string => DASHES[i % DASHES.length]!
