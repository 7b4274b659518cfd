/**
 * Fixed-width text tables for diff and check output (ledger/ imports nothing of harness/, so it has its own).
 * Columns listed in `leftAligned` (default: the text columns the caller names) pad on the right; the rest,
 * numbers, pad on the left.
 */
export const renderFixedWidth = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  leftAligned: ReadonlyArray<number> = [0]
): string => {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)))
  const fmt = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, c) => (leftAligned.includes(c) ? (cell ?? "").padEnd(widths[c]) : (cell ?? "").padStart(widths[c])))
      .join("  ")
      .trimEnd()
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n")
}

/** 4 significant digits; exponent only for very large or very small magnitudes. */
export const formatNumber = (x: number | null | undefined): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return "-"
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(3)
  if (a >= 1e4) return String(Math.round(x)) // 11003, not toPrecision's "1.100e+4"
  const s = x.toPrecision(4)
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s
}

export const formatSigned = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? "-" : (x > 0 ? "+" : "") + formatNumber(x)

export const formatPercent = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "-" : `${x > 0 ? "+" : ""}${(x * 100).toFixed(1)}%`

export const formatP = (p: number | null | undefined): string => (p === null || p === undefined ? "-" : p < 1e-4 ? "<1e-4" : p.toFixed(4))
