/**
 * `harness reproduce <job>`: rerun a recorded job from scratch (same resolved configuration, same seed, a
 * scratch ledger and checkpoint folder), compare its metrics with the recorded ones, and record a determinism
 * certificate in the ledger: bitwise when the job was recorded on a bitwise-deterministic backend, else within
 * the stated tolerance. Timing metrics are never compared.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { LedgerStore } from "../../../ledger/store.js"
import { compareForCertificate } from "../../../ledger/reproduce.js"
import { BACKEND_CHOICES } from "../../../suites/schema.js"
import { UsageError } from "../../errors.js"
import type { Job, JobConfig } from "../../plan/job.js"
import { CorpusService } from "../../runner/corpus-service.js"
import { Engine } from "../../runner/engine-service.js"
import type { LedgerError } from "../../../ledger/errors.js"
import { attempt, Ledger } from "../../../ledger/service.js"
import type { JobRow } from "../../../ledger/types.js"
import { beginSuiteRun, findDone } from "../../runner/job-records.js"
import { Progress } from "../../runner/progress.js"
import { REPRODUCE_TOLERANCE, runJob } from "../../runner/run-job.js"
import { ledgerFlag } from "../shared-flags.js"
import { codeVersion, gitFacts } from "../../provenance/code-version.js"

/** The job `ref` names in the ledger: its id, or a unique prefix of a done job's key or id. */
export const findJob = (store: LedgerStore, ref: string): Effect.Effect<JobRow, UsageError | LedgerError> =>
  Effect.gen(function* () {
    const byId = yield* attempt(() => store.job(ref))
    if (byId) return byId
    const matches = yield* attempt(() => store.jobs({ status: "done" }).filter((j) => j.key.startsWith(ref) || j.id.startsWith(ref)))
    const keys = new Set(matches.map((j) => j.key))
    if (keys.size > 1)
      return yield* new UsageError({ message: `"${ref}" matches ${keys.size} different jobs; give more characters of the key` })
    const found = matches.at(-1)
    if (!found)
      return yield* new UsageError({
        message: `no done job with id or key starting "${ref}" in ${store.file}; \`harness ledger export --format csv\` lists them`
      })
    return found
  })

export const reproduceCommand = Command.make(
  "reproduce",
  {
    job: Argument.String("job").pipe(Argument.withDescription("a job id or key (a unique prefix is enough)")),
    ledger: ledgerFlag,
    backend: Flag.Literals("backend", BACKEND_CHOICES).pipe(
      Flag.optional,
      Flag.withDescription("default: the backend the job was recorded on")
    ),
    threads: Flag.Int("threads").pipe(Flag.optional, Flag.withDescription("default: the thread count the job was recorded with"))
  },
  (f) =>
    Effect.gen(function* () {
      const store = yield* attempt(() => LedgerStore.open(f.ledger))
      const scratch = mkdtempSync(join(tmpdir(), "fope-reproduce-"))
      try {
        const recorded = yield* findJob(store, f.job)
        if (recorded.status !== "done")
          return yield* new UsageError({
            message: `job ${recorded.id} is ${recorded.status}, not done: only finished jobs can be reproduced`
          })
        const run = store.run(recorded.runId)
        const env = (run?.environment ?? {}) as {
          engine?: { backend?: string; threads?: number; kernelOverrides?: ReadonlyArray<string>; native?: unknown }
        }
        // The matrix products run on the path the job was recorded with (native library or WebAssembly GEMM): the two
        // differ in the last bits, so a bitwise certificate needs the same one.
        const recordedNative =
          env.engine?.native !== undefined || (env.engine?.kernelOverrides ?? []).some((k) => k.startsWith("BatchMatMul(oneDNN"))
        const backend = Option.getOrElse(
          f.backend,
          () =>
            (env.engine?.backend === "cpu" ? "cpu" : env.engine?.backend === "wasm" ? "wasm" : "auto") as (typeof BACKEND_CHOICES)[number]
        )
        const threads = Option.getOrElse(f.threads, () => env.engine?.threads ?? 1)
        const config = recorded.config as JobConfig
        const job: Job = {
          name: recorded.name,
          cell: { embedding: config.embedding.label, scale: config.model.scale, seed: config.seed },
          config,
          key: recorded.key
        }
        const reproducibility = recorded.reproducibility ?? { mode: "tolerance" as const, tolerance: REPRODUCE_TOLERANCE }
        yield* Console.log(
          `reproducing ${recorded.name} (key ${recorded.key.slice(0, 12)}) on ${backend} with ${threads} thread(s)${backend === "wasm" ? `, products on ${recordedNative ? "the native library" : "the WebAssembly GEMM"} as recorded` : ""}; expecting ${reproducibility.mode === "bitwise" ? "bitwise identity" : `agreement within ${reproducibility.tolerance}`}`
        )
        const scratchLedger = join(scratch, "rerun.db")
        const rerun = yield* Effect.gen(function* () {
          const runId = yield* beginSuiteRun({ suite: config.suite, codeVersion: codeVersion(), git: gitFacts(), environment: {} })
          yield* runJob(job, { runId, checkpointRoot: join(scratch, "checkpoints"), index: 1, total: 1 })
          const done = yield* findDone(job.key)
          return done!.metrics
        }).pipe(
          Effect.provide(
            Layer.mergeAll(Ledger.layer(scratchLedger), CorpusService.layer, Engine.layer(backend, threads, recordedNative), Progress.layer)
          )
        )
        const certificate = compareForCertificate(recorded.id, store.metrics(recorded.id), rerun, reproducibility)
        store.recordCertificate(certificate)
        yield* Console.log(
          `${certificate.verdict === "certified" ? "CERTIFIED" : "NOT REPRODUCED"}: ${certificate.compared} metrics compared, max |difference| ${certificate.maxAbsDiff.toExponential(3)} ` +
            `(${certificate.mode}${certificate.tolerance !== null ? `, tolerance ${certificate.tolerance}` : ""}); certificate recorded in ${f.ledger}`
        )
        for (const m of certificate.details.mismatches.slice(0, 10)) {
          yield* Console.log(
            `  ${m.metric}${m.length !== null ? `@${m.length}` : ""}${m.step !== null ? ` step ${m.step}` : ""}: recorded ${m.recorded}, rerun ${m.rerun}`
          )
        }
        if (certificate.verdict !== "certified") process.exitCode = 1
      } finally {
        store.close()
        rmSync(scratch, { recursive: true, force: true })
      }
    })
).pipe(
  Command.withDescription(
    "Rerun a recorded job from scratch and certify it: bitwise identical metrics on a deterministic backend, otherwise agreement within a stated tolerance. " +
      "The certificate (verdict, metrics compared, largest difference) is recorded in the ledger; exit 1 when it does not reproduce."
  )
)
