/**
 * `harness report <suite>`: the ledger's results for a suite as Markdown with SVG plots (perplexity against
 * evaluation length with the spread over seeds, per-position loss curves, passkey accuracy, extensions,
 * training curves), every number traceable to the hash of its ledger record.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { LedgerStore } from "../../../ledger/store.js"
import type { JobRow } from "../../../ledger/types.js"
import { renderReport } from "../../report/render.js"
import type { ReportInput, ReportJob } from "../../report/types.js"
import { loadSuite } from "../../suite/load-suite.js"
import type { JobConfig } from "../../plan/job.js"
import { UsageError } from "../../errors.js"
import { fileInside, reportFolder } from "../../report/output-paths.js"
import { ledgerFlag } from "../shared-flags.js"

const describeBackend = (environment: unknown): string => {
  const e = (environment ?? {}) as { engine?: { backend?: string; threads?: number; kernelOverrides?: ReadonlyArray<string> } }
  if (!e.engine?.backend) return "unknown"
  const tuned = (e.engine.kernelOverrides?.length ?? 0) > 0 ? ", tuned kernels" : ""
  return `${e.engine.backend} (${e.engine.threads ?? "?"} thread${e.engine.threads === 1 ? "" : "s"}${tuned})`
}

/** The suite's jobs as the ledger holds them: per job name, the latest done record, else the latest attempt. */
export const reportInputFromLedger = (store: LedgerStore, suite: string, description: string, generatedAt: string): ReportInput => {
  const doneHash = new Map<string, string>()
  for (const r of store.chainRecords()) {
    if (r.kind === "job.done") doneHash.set((r.data as { jobId: string }).jobId, r.hash)
  }
  const latest = new Map<string, JobRow>()
  for (const j of store.jobs({ suite })) {
    const prev = latest.get(j.name)
    if (!prev || j.status === "done" || prev.status !== "done") latest.set(j.name, j)
  }
  const jobs: ReportJob[] = [...latest.values()].map((j) => {
    const config = j.config as JobConfig
    return {
      name: j.name,
      cell: { embedding: config.embedding?.label ?? "?", scale: config.model?.scale ?? "?", seed: j.seed },
      key: j.key,
      recordHash: doneHash.get(j.id) ?? "",
      status: j.status,
      trainLength: config.model?.trainLength ?? 0,
      backend: describeBackend(store.run(j.runId)?.environment),
      metrics: j.status === "done" ? store.metrics(j.id) : []
    }
  })
  return { suite, description, generatedAt, ledgerPath: store.file, ledgerHeadHash: store.head()?.hash ?? "", jobs }
}

export const reportCommand = Command.make(
  "report",
  {
    suite: Argument.String("suite").pipe(Argument.withDescription("the suite's name, as recorded in the ledger")),
    ledger: ledgerFlag,
    out: Flag.String("out").pipe(Flag.optional, Flag.withDescription("output folder (default reports/<suite>)"))
  },
  (f) =>
    Effect.gen(function* () {
      const store = yield* Effect.try({ try: () => LedgerStore.open(f.ledger, { readonly: true }), catch: (e) => new UsageError({ message: (e as Error).message }) })
      try {
        let description = ""
        try {
          description = loadSuite(f.suite).suite.description
        } catch {
          description = "(not a shipped suite; description unavailable)"
        }
        const input = reportInputFromLedger(store, f.suite, description, new Date().toISOString())
        if (input.jobs.length === 0) {
          const suites = [...new Set(store.jobs().map((j) => j.suite))]
          return yield* new UsageError({ message: `the ledger ${f.ledger} holds no jobs of suite "${f.suite}". Suites it holds: ${suites.join(", ") || "none"}. Run \`harness run ${f.suite}\` first.` })
        }
        const rendered = renderReport(input)
        const out = yield* Effect.try({ try: () => reportFolder(f.suite, Option.getOrUndefined(f.out)), catch: (e) => e as UsageError })
        const targets = yield* Effect.try({ try: () => rendered.files.map((file) => fileInside(out, file.name)), catch: (e) => e as UsageError })
        mkdirSync(out, { recursive: true })
        writeFileSync(join(out, "README.md"), rendered.markdown)
        rendered.files.forEach((file, i) => writeFileSync(targets[i]!, file.content))
        yield* Console.log(`wrote ${join(out, "README.md")} and ${rendered.files.length} plot(s): ${rendered.files.map((x) => x.name).join(", ")}`)
      } finally {
        store.close()
      }
    })
).pipe(
  Command.withDescription(
    "Write a Markdown report with SVG plots for a suite from the ledger: perplexity against evaluation length (spread over seeds), per-position loss, " +
      "passkey accuracy, extensions, training curves; each number traceable to its ledger record hash."
  ),
  Command.withExamples([{ command: "harness report quickstart", description: "reports/quickstart/README.md and its plots" }])
)
