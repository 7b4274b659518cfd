/**
 * Terminal tables for the harness's own commands: the ledger's fixed-width renderer (ledger/table.ts), with the text
 * columns found automatically so that numbers right-align and names left-align.
 */
import { formatNumber, renderFixedWidth } from "../ledger/table.js"

export { formatNumber }

const NUMERIC = /^[-+]?(\d|\.\d)|^-$/

export const renderTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const textColumns = header.map((_, c) => c).filter((c) => c === 0 || rows.length === 0 || !rows.every((r) => NUMERIC.test(r[c] ?? "-")))
  return renderFixedWidth(header, rows, textColumns)
}
