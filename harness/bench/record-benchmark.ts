/**
 * Benchmarks go to the ledger like any job: one run, one job per benchmark invocation, its metrics (timings,
 * throughputs and the ratios measured in the same run) committed in one transaction. A benchmark is a
 * measurement, not an experiment to skip: its key includes the run id, so every invocation is recorded.
 */
import { LedgerStore } from "../../ledger/store.js"
import { canonicalJson, sha256Hex } from "../../ledger/canonical.js"
import type { MetricRecord } from "../../ledger/types.js"
import { codeVersion, gitFacts } from "../provenance/code-version.js"
import { environmentFingerprint } from "../provenance/environment.js"
import type { EngineInfo } from "../../models/engine/index.js"

export const recordBenchmark = (
  ledgerPath: string,
  benchmark: { suite: string; name: string; config: Record<string, unknown>; engine: EngineInfo },
  metrics: ReadonlyArray<MetricRecord>,
  extra: Record<string, unknown> = {}
): { runId: string; jobId: string } => {
  const store = LedgerStore.open(ledgerPath)
  try {
    const run = store.beginRun({
      suite: benchmark.suite,
      git: gitFacts(),
      codeVersion: codeVersion(),
      environment: { ...environmentFingerprint(benchmark.engine), ...extra }
    })
    const job = store.startJob({
      runId: run.id,
      key: sha256Hex(canonicalJson({ benchmark: benchmark.name, config: benchmark.config, codeVersion: codeVersion(), run: run.id })),
      name: `${benchmark.suite}/${benchmark.name}/seed0`,
      config: benchmark.config,
      seed: 0,
      suite: benchmark.suite
    })
    store.completeJob(job.id, { metrics, reproducibility: { mode: "tolerance", tolerance: 0 } })
    store.finishRun(run.id)
    return { runId: run.id, jobId: job.id }
  } finally {
    store.close()
  }
}
