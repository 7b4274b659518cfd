/**
 * GitHub-flavoured Markdown tables. By default the first column is left-aligned (labels) and the others
 * right-aligned (numbers); `align` overrides that per column.
 */
import { escapeMarkdownCell } from "./escape.js"

export type Alignment = "left" | "right"

export const markdownTable = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  align?: ReadonlyArray<Alignment>
): string => {
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map(escapeMarkdownCell).join(" | ")} |`
  const alignmentOf = (i: number): Alignment => align?.[i] ?? (i === 0 ? "left" : "right")
  const alignRow = `|${header.map((_, i) => (alignmentOf(i) === "left" ? " :--- " : " ---: ")).join("|")}|`
  return [line(header), alignRow, ...rows.map((r) => line(header.map((_, i) => r[i] ?? "")))].join("\n")
}
