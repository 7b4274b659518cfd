/**
 * The metric shape every producer hands the ledger (contracts.md, "Ledger metric shape"). Declared here
 * structurally because models/ may not import ledger/; the ledger's own type is the same shape.
 */
export interface MetricRecord {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly better: "lower" | "higher" | "none"
  readonly length?: number | null
  readonly step?: number | null
}
