/**
 * `harness ledger view [--suite S] [--out FILE]` and `harness report <suite> --html`: the ledger as one
 * self-contained HTML page (harness/report/html/), for one suite or all of them. Opens the ledger read-only; the
 * verification shown on the page is `harness ledger verify`'s own.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import type { LedgerError } from "../../../ledger/errors.js"
import { attempt } from "../../../ledger/service.js"
import { LedgerStore } from "../../../ledger/store.js"
import { UsageError } from "../../errors.js"
import { ledgerSuites, loadView } from "../../report/html/load-view.js"
import { renderHtmlView } from "../../report/html/page.js"
import { reportFolder } from "../../report/output-paths.js"
import { readLedgerFlag } from "../shared-flags.js"

/** Where the page goes by default: next to the suite's Markdown report, or reports/ledger.html for every suite. */
export const defaultViewFile = (suite: string | undefined): Effect.Effect<string, UsageError> =>
  suite === undefined
    ? Effect.succeed(join("reports", "ledger.html"))
    : Effect.map(reportFolder(suite, undefined), (folder) => join(folder, "index.html"))

/** Writes the page and says what it holds; fails with a usage error for a suite the ledger does not hold. */
export const writeHtmlView = (ledger: string, suite: string | undefined, file: string): Effect.Effect<void, UsageError | LedgerError> =>
  Effect.gen(function* () {
    const store = yield* attempt(() => LedgerStore.open(ledger, { readonly: true }))
    try {
      if (suite !== undefined && store.jobs({ suite }).length === 0) {
        const suites = ledgerSuites(store)
        return yield* new UsageError({
          message: `the ledger ${ledger} holds no jobs of suite "${suite}". Suites it holds: ${suites.join(", ") || "none"}. Run \`harness run ${suite}\` first.`
        })
      }
      const view = loadView(store, { ...(suite !== undefined ? { suite } : {}), generatedAt: new Date().toISOString() })
      const html = renderHtmlView(view)
      yield* Effect.try({
        try: () => {
          mkdirSync(dirname(file), { recursive: true })
          writeFileSync(file, html)
        },
        catch: (e) => new UsageError({ message: `cannot write ${file}: ${(e as Error).message}` })
      })
      const jobs = view.suites.reduce((n, s) => n + s.jobs.length, 0)
      const charts = (html.match(/<figure [^>]*data-chart=/g) ?? []).length
      yield* Console.log(
        `wrote ${file} (${Math.ceil(Buffer.byteLength(html) / 1024)} KiB, self-contained: open it in a browser): ${view.suites.length} suite(s), ${view.runs.length} run(s), ${jobs} job(s), ${charts} chart(s); ` +
          (view.verify.ok ? `ledger verified, head ${view.headHash}` : `LEDGER NOT VERIFIED: ${view.verify.text.split("\n")[0]}`)
      )
    } finally {
      store.close()
    }
  })

export const viewCommand = Command.make(
  "view",
  {
    ledger: readLedgerFlag,
    suite: Flag.String("suite").pipe(Flag.optional, Flag.withDescription("one suite (default: every suite in the ledger)")),
    out: Flag.String("out").pipe(
      Flag.optional,
      Flag.withDescription("the HTML file to write (default reports/<suite>/index.html, or reports/ledger.html for every suite)")
    )
  },
  (f) =>
    Effect.gen(function* () {
      const suite = Option.getOrUndefined(f.suite)
      const out = Option.getOrUndefined(f.out) ?? (yield* defaultViewFile(suite))
      yield* writeHtmlView(f.ledger, suite, out)
    })
).pipe(
  Command.withDescription(
    "Write the ledger as one self-contained HTML page (no server, no network): ledger verification and head hash, runs with their engines, " +
      "jobs with their configurations, the report's tables and plots, and every number linked to its ledger record."
  ),
  Command.withExamples([
    { command: "harness ledger view", description: "every suite in ./harness.db, to reports/ledger.html" },
    { command: "harness ledger view --suite quickstart --out quickstart.html", description: "one suite, to quickstart.html" }
  ])
)
