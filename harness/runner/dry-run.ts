/**
 * `harness run <suite> --dry-run`: the plan without training. Each job with its key and state in the ledger,
 * and an estimated time: measured by the ledger when the same cell (the job without its seed) has finished
 * before, else measured on the spot by a short probe of the job's own model on the run's engine (cost-probe.ts).
 * A dry run writes nothing: the ledger is opened read-only, and a ledger that does not exist yet is stood in
 * for by an empty one in memory (every job "to run") instead of being created.
 */
import { Console, Effect } from "effect"
import { Ledger } from "../../ledger/service.js"
import { resolveScale } from "../../models/scales.js"
import { initEngine, type BackendRequest, type EngineInfo } from "../../models/engine/index.js"
import type { JobConfig } from "../plan/job.js"
import { UsageError } from "../errors.js"
import { CorpusService } from "./corpus-service.js"
import { probeJobCost, probeKey, type JobCost } from "./cost-probe.js"
import type { Suite } from "../../suites/schema.js"
import { formatNumber, renderTable } from "../table.js"
import { findDone } from "./job-records.js"
import { planSuite } from "./run-suite.js"
import { formatDuration } from "./progress.js"

/** The cell's cost from the ledger: the mean train + evaluation seconds of its finished jobs (any seed). */
const measuredJobCost = (config: JobConfig) =>
  Effect.gen(function* () {
    const ledger = yield* Ledger
    const key = probeKey(config)
    const totals: number[] = []
    for (const j of yield* ledger.jobs({ status: "done" })) {
      if (!j.config || probeKey(j.config as JobConfig) !== key) continue
      const metrics = yield* ledger.metrics(j.id)
      const train = metrics.find((m) => m.name === "train_seconds")?.value
      const evaluation = metrics.find((m) => m.name === "eval_seconds")?.value
      if (train !== undefined && evaluation !== undefined && train > 0.01) totals.push(train + evaluation)
    }
    return totals.length ? totals.reduce((a, b) => a + b, 0) / totals.length : undefined
  })

export const printPlan = Effect.fn("printPlan")(function* (
  suite: Suite,
  options: { seeds: ReadonlyArray<number> | undefined; shard: { index: number; count: number } | undefined; backend: string }
) {
  const jobs = yield* planSuite(suite, {
    ...(options.seeds ? { seeds: options.seeds } : {}),
    ...(options.shard ? { shard: options.shard } : {})
  })
  const corpus = yield* CorpusService
  // one probe per cell (a job without its seed), on the engine the run would use, started only when needed
  const probes = new Map<string, JobCost | string>()
  let engine: EngineInfo | undefined
  const rows: string[][] = []
  let total = 0
  let todo = 0
  let unknown = 0
  const basisCount = { ledger: 0, probe: 0 }
  for (const [i, job] of jobs.entries()) {
    const done = yield* findDone(job.key)
    const c = job.config
    const tokens = c.training.steps * c.training.batchSize * c.training.seqLength
    let estimate = "-"
    if (!done) {
      todo++
      const fromLedger = yield* measuredJobCost(c)
      let cost: JobCost | string | undefined = fromLedger === undefined ? undefined : { trainSeconds: fromLedger, evalSeconds: 0 }
      let mark = "L"
      if (cost === undefined) {
        mark = "p"
        const key = probeKey(c)
        cost = probes.get(key)
        if (cost === undefined) {
          engine ??= yield* Effect.tryPromise({
            try: () => initEngine({ backend: options.backend as BackendRequest }),
            catch: (e) => new UsageError({ message: (e as Error).message })
          })
          const scale = resolveScale(c.model.scale)
          if (scale.gpuOnly && !engine.gpu) cost = `scale ${c.model.scale} needs a GPU backend (this engine: ${engine.backend})`
          else {
            const data = yield* corpus.load(c.data)
            yield* Console.error(
              `probing ${job.name.replace(/\/seed\d+$/, "")} (a few steps and one window per length on ${engine.backend})...`
            )
            cost = yield* Effect.tryPromise({
              try: () => probeJobCost(c, data),
              catch: (e) => new UsageError({ message: `the cost probe of ${job.name} failed: ${(e as Error).message}` })
            })
          }
          probes.set(key, cost)
        }
      }
      if (typeof cost === "string") {
        unknown++
        estimate = `? (${cost})`
      } else {
        const seconds = cost.trainSeconds + cost.evalSeconds
        total += seconds
        basisCount[mark === "L" ? "ledger" : "probe"]++
        estimate = `${formatDuration(seconds)} ${mark}`
      }
    }
    rows.push([
      String(i + 1),
      job.name,
      job.key.slice(0, 12),
      done ? `done (run #${done.runId})` : "to run",
      formatNumber(tokens / 1e6) + "M",
      estimate
    ])
  }
  yield* Console.log(
    `Plan for suite "${suite.name}"${options.shard ? ` (shard ${options.shard.index}/${options.shard.count})` : ""}: ${jobs.length} job(s), ${todo} to run, ${jobs.length - todo} already done\n`
  )
  yield* Console.log(renderTable(["#", "job", "key", "state", "train tokens", "estimate"], rows))
  yield* Console.log(
    `\nEstimated time for the ${todo - unknown} job(s) to run that could be estimated: ${formatDuration(total)}` +
      (unknown ? ` (${unknown} not estimated)` : "") +
      `\nL = measured by this ledger (the same cell's finished jobs: training + evaluation), ${basisCount.ledger} job(s); ` +
      `p = measured just now by a probe (the job's model on ${engine ? engine.backend : "the engine"}: ${TIMED_PROBE_STEPS_TEXT}), ${basisCount.probe} job(s).` +
      `\nNothing was trained or recorded (--dry-run).`
  )
})

const TIMED_PROBE_STEPS_TEXT = "a few training steps and one window and one passkey trial per evaluation length, scaled to the job"
