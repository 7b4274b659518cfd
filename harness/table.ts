const NUMERIC = /^[-+]?(\d|\.\d)|^-$/

/** Fixed-width text tables for the terminal: numeric columns right-aligned, text columns left-aligned. */
export const renderTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)))
  const numeric = header.map((_, c) => c > 0 && rows.length > 0 && rows.every((r) => NUMERIC.test(r[c] ?? "-")))
  const fmt = (cells: ReadonlyArray<string>) =>
    cells.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ").trimEnd()
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n")
}

/** 4 significant digits, no exponent for the ranges a perplexity table has. */
export const formatNumber = (x: number | null | undefined): string => {
  if (x === null || x === undefined) return "-"
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(3)
  return x.toPrecision(4).replace(/\.?0+$/, (m) => (m.includes(".") ? "" : m))
}
