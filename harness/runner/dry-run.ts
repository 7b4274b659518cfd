/**
 * `harness run <suite> --dry-run`: the plan without training. Each job with its key and state in the ledger,
 * and an estimated time from throughput already measured in the ledger (same scale, training length and
 * backend when available); without a measurement, a rough FLOP-based guess, labelled as such.
 */
import { Console, Effect } from "effect"
import { resolveScale, trainingFlopsPerStep } from "../../models/scales.js"
import type { Suite } from "../../suites/schema.js"
import { formatNumber, renderTable } from "../table.js"
import { findDone, measuredThroughput } from "./job-records.js"
import { planSuite } from "./run-suite.js"
import { formatDuration } from "./progress.js"

/** GFLOP/s assumed when the ledger has no measurement (wasm with the kernel work, engine-facts.md). */
const GUESS_GFLOPS = 10

export const printPlan = Effect.fn("printPlan")(function* (
  suite: Suite,
  options: { seeds: ReadonlyArray<number> | undefined; shard: { index: number; count: number } | undefined; backend: string }
) {
  const jobs = yield* planSuite(suite, { ...(options.seeds ? { seeds: options.seeds } : {}), ...(options.shard ? { shard: options.shard } : {}) })
  const rows: string[][] = []
  let total = 0
  let measured = 0
  let todo = 0
  for (const [i, job] of jobs.entries()) {
    const done = yield* findDone(job.key)
    const c = job.config
    const tokens = c.training.steps * c.training.batchSize * c.training.seqLength
    const measuredRate = yield* measuredThroughput({ scale: c.model.scale, seqLength: c.training.seqLength })
    let seconds: number
    let mark = "*"
    if (measuredRate !== undefined) {
      seconds = tokens / measuredRate.rate
      mark = measuredRate.sameLength ? "" : "~"
      if (measuredRate.sameLength) measured++
    } else {
      const flops = trainingFlopsPerStep(resolveScale(c.model.scale), c.model.vocabSize, c.training.batchSize, c.training.seqLength) * c.training.steps
      seconds = flops / (GUESS_GFLOPS * 1e9)
    }
    seconds *= 1.15 // evaluation adds roughly 10-20% at these settings
    if (!done) {
      total += seconds
      todo++
    }
    rows.push([
      String(i + 1),
      job.name,
      job.key.slice(0, 12),
      done ? `done (run #${done.runId})` : "to run",
      formatNumber(tokens / 1e6) + "M",
      done ? "-" : `${formatDuration(seconds)}${mark}`
    ])
  }
  yield* Console.log(
    `Plan for suite "${suite.name}"${options.shard ? ` (shard ${options.shard.index}/${options.shard.count})` : ""}: ${jobs.length} job(s), ${todo} to run, ${jobs.length - todo} already done\n`
  )
  yield* Console.log(renderTable(["#", "job", "key", "state", "train tokens", "estimate"], rows))
  yield* Console.log(
    `\nEstimated time for the ${todo} job(s) to run: ${formatDuration(total)}` +
      (measured < jobs.length
        ? `\n~ from the throughput the ledger measured for this scale at another training length` +
          `\n* no throughput for this scale in the ledger yet: a rough guess at ${GUESS_GFLOPS} GFLOP/s; it improves once a job of that scale has run.`
        : "") +
      `\nNothing was trained (--dry-run).`
  )
})
