/**
 * Determinism certificates (`harness reproduce <job>`): the harness reruns a job, then this compares the
 * rerun's metrics with the recorded ones and produces the certificate the store records
 * (`LedgerStore.recordCertificate`).
 *   - "bitwise": every compared value identical (Object.is: same double, same sign of zero);
 *   - "tolerance": |a - b| <= tolerance * max(1, |a|) for every compared value (relative for large values,
 *     absolute near zero).
 * Timing metrics (time units, x/s) are not compared: wall-clock numbers never reproduce. Metrics are matched
 * by (name, length, step, occurrence); a metric present on one side only fails the certificate.
 */
import { isMeasurementUnit } from "./sides.js"
import type { CertificateInput, MetricRecord, Reproducibility } from "./types.js"

export interface MetricMismatch {
  readonly metric: string
  readonly length: number | null
  readonly step: number | null
  readonly recorded: number | null
  readonly rerun: number | null
  readonly absDiff: number | null
}

const keyOf = (m: MetricRecord, occurrence: number) => `${m.name}|${m.length ?? ""}|${m.step ?? ""}|${occurrence}`

const index = (metrics: ReadonlyArray<MetricRecord>): Map<string, MetricRecord> => {
  const seen = new Map<string, number>()
  const out = new Map<string, MetricRecord>()
  for (const m of metrics) {
    if (isMeasurementUnit(m.unit)) continue
    const base = keyOf(m, 0)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.set(keyOf(m, n), m)
  }
  return out
}

export const compareForCertificate = (
  jobId: string,
  recorded: ReadonlyArray<MetricRecord>,
  rerun: ReadonlyArray<MetricRecord>,
  reproducibility: Reproducibility,
  rerunJobId: string | null = null
): CertificateInput & { readonly details: { readonly mismatches: ReadonlyArray<MetricMismatch> } } => {
  const a = index(recorded)
  const b = index(rerun)
  const mismatches: MetricMismatch[] = []
  let maxAbsDiff = 0
  let compared = 0
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k)
    const y = b.get(k)
    const m = (x ?? y)!
    if (!x || !y) {
      mismatches.push({
        metric: m.name,
        length: m.length ?? null,
        step: m.step ?? null,
        recorded: x?.value ?? null,
        rerun: y?.value ?? null,
        absDiff: null
      })
      continue
    }
    compared++
    const diff = Math.abs(x.value - y.value)
    maxAbsDiff = Math.max(maxAbsDiff, diff)
    const ok =
      reproducibility.mode === "bitwise" ? Object.is(x.value, y.value) : diff <= reproducibility.tolerance * Math.max(1, Math.abs(x.value))
    if (!ok)
      mismatches.push({ metric: m.name, length: m.length ?? null, step: m.step ?? null, recorded: x.value, rerun: y.value, absDiff: diff })
  }
  return {
    jobId,
    rerunJobId,
    mode: reproducibility.mode,
    tolerance: reproducibility.mode === "tolerance" ? reproducibility.tolerance : null,
    verdict: mismatches.length === 0 && compared > 0 ? "certified" : "failed",
    maxAbsDiff,
    compared,
    details: { mismatches }
  }
}
