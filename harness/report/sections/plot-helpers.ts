/** Pieces every plotted section shares: the training-length reference lines and the Markdown image block. */
import type { Series } from "../series.js"

/** One dashed line per distinct training length (normally one). */
export const trainLengthLines = (series: ReadonlyArray<Series>): Array<{ x: number; label: string }> =>
  [...new Set(series.flatMap((s) => s.trainLengths))].sort((a, b) => a - b).map((l) => ({ x: l, label: `train length ${l}` }))

/** An image referenced by relative file name, with an italic caption saying what it shows. */
export const figure = (file: string, alt: string, caption: string): string => `![${alt.replace(/[[\]]/g, "")}](${file})\n\n*${caption}*`

export const BAND_NOTE = "Shaded: min..max over seeds; line: mean."
export const TRAIN_NOTE = "Dashed vertical line: training length."
