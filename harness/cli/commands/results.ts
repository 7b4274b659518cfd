/**
 * `harness results`: RESULTS.md, a verdict for each of the FoPE paper's claims (harness/report/claims/) from the
 * claims suites in a ledger, plus each suite's report and plots under results/<suite>/. Reads the ledger only;
 * the output depends on the ledger's contents alone (no clock, no path), so a test can regenerate the committed
 * files from the committed export and compare them byte for byte.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { LedgerStore } from "../../../ledger/store.js"
import { CLAIMS } from "../../report/claims/claims.js"
import { learningRateAt } from "../../../models/train/schedule.js"
import type { JobConfig } from "../../plan/job.js"
import { renderResults, type ResultsInput } from "../../report/claims/render-results.js"
import { renderReport } from "../../report/render.js"
import { loadSuite } from "../../suite/load-suite.js"
import { attempt } from "../../../ledger/service.js"
import type { Suite } from "../../../suites/schema.js"
import { readLedgerFlag } from "../shared-flags.js"
import { reportInputFromLedger } from "./report.js"

export interface ResultsFile {
  readonly path: string
  readonly content: string
}

const engineOf = (environment: unknown): string => {
  const e = (environment ?? {}) as { engine?: { backend?: string; threads?: number; kernelOverrides?: ReadonlyArray<string> } }
  if (!e.engine?.backend) return "unknown"
  return `${e.engine.backend}, ${e.engine.threads ?? "?"} thread(s)${(e.engine.kernelOverrides?.length ?? 0) > 0 ? ", tuned kernels" : ""}`
}

/** The files `harness results` writes, as data: RESULTS.md at `resultsPath`, reports under `plotsRoot/<suite>/`. */
export const buildResults = (store: LedgerStore, resultsPath: string, plotsRoot: string): ResultsFile[] => {
  const records = [...store.chainRecords()]
  const head = records.at(-1)
  const generatedAt = head ? `${head.at} (the ledger's last record)` : "(empty ledger)"
  const suites = [...new Set(CLAIMS.map((c) => c.suite))]
  const planned: Record<string, number> = {}
  const inputs = suites.map((suite) => {
    // a claims suite the harness no longer ships (or cannot read) is reported from the ledger alone
    const loaded = Effect.runSync(
      loadSuite(suite).pipe(
        Effect.map((l): Suite | undefined => l.suite),
        Effect.catchTag("SuiteError", () => Effect.succeed(undefined))
      )
    )
    const description = loaded?.description ?? ""
    if (loaded) planned[suite] = loaded.embeddings.length * loaded.scales.length * loaded.seeds.length
    return { ...reportInputFromLedger(store, suite, description, generatedAt), ledgerPath: "results/claims.jsonl (imported)" }
  })
  // what decoupled weight decay does to a parameter no gradient holds up: prod over steps of (1 - lr(s) * wd)
  const decayFactor: Record<string, number> = {}
  for (const suite of suites) {
    const t = (store.jobs({ suite })[0]?.config as JobConfig | undefined)?.training
    if (!t) continue
    let factor = 1
    for (let step = 1; step <= t.steps; step++) factor *= 1 - learningRateAt(t, step) * t.weightDecay
    decayFactor[suite] = factor
  }
  const provenance: ResultsInput["provenance"][number][] = []
  for (const suite of suites) {
    const runs = store.runs().filter((r) => r.suite === suite)
    for (const run of runs) {
      const entry = { suite, gitCommit: run.gitCommit, codeVersion: run.codeVersion, engine: engineOf(run.environment) }
      if (!provenance.some((p) => p.suite === entry.suite && p.gitCommit === entry.gitCommit && p.codeVersion === entry.codeVersion))
        provenance.push(entry)
    }
  }
  const resultsDir = dirname(resultsPath)
  const plotFolder = (suite: string) => relative(resultsDir, join(plotsRoot, suite)).split("\\").join("/")
  const { markdown } = renderResults({
    suites: inputs,
    ledgerHeadHash: head?.hash ?? "",
    recordCount: records.length,
    provenance,
    plotFolder,
    planned,
    decayFactor
  })
  const files: ResultsFile[] = [{ path: resultsPath, content: markdown }]
  for (const input of inputs) {
    if (input.jobs.length === 0) continue
    const rendered = renderReport(input)
    files.push({ path: join(plotsRoot, input.suite, "README.md"), content: rendered.markdown })
    for (const f of rendered.files) files.push({ path: join(plotsRoot, input.suite, f.name), content: f.content })
  }
  return files
}

export const resultsCommand = Command.make(
  "results",
  {
    ledger: readLedgerFlag,
    out: Flag.String("out").pipe(Flag.withDefault("RESULTS.md"), Flag.withDescription("where to write the verdicts (Markdown)")),
    plots: Flag.String("plots").pipe(
      Flag.withDefault("results"),
      Flag.withDescription("folder for each claims suite's report and SVG plots (<plots>/<suite>/)")
    )
  },
  (f) =>
    Effect.gen(function* () {
      const store = yield* attempt(() => LedgerStore.open(f.ledger, { readonly: true }))
      try {
        const files = buildResults(store, f.out, f.plots)
        for (const file of files) {
          mkdirSync(dirname(file.path), { recursive: true })
          writeFileSync(file.path, file.content)
        }
        yield* Console.log(`wrote ${f.out} and ${files.length - 1} report file(s) under ${f.plots}/`)
      } finally {
        store.close()
      }
    })
).pipe(
  Command.withDescription(
    "Write RESULTS.md: a verdict (reproduced / not reproduced / partly / inconclusive) for each of the FoPE paper's claims, from the claims suites " +
      "(claims-perplexity, claims-passkey) in the ledger, decided by paired comparisons over seeds, with the seed spread and every job's record hash; " +
      "plus each suite's report and plots."
  ),
  Command.withExamples([
    {
      command: "harness ledger import results/claims.jsonl --ledger claims.db && harness results --ledger claims.db",
      description: "regenerate RESULTS.md from the committed export"
    }
  ])
)
