/**
 * `harness report <suite>`: the ledger's results for a suite as Markdown with SVG plots (perplexity against
 * evaluation length with the spread over seeds, per-position loss curves, passkey accuracy, extensions,
 * training curves), every number traceable to the hash of its ledger record. With --html, the same sections as one
 * self-contained HTML page instead (ledger-view.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { attempt } from "../../../ledger/service.js"
import { LedgerStore } from "../../../ledger/store.js"
import { renderReport } from "../../report/render.js"
import { reportInputFromLedger, suiteDescription } from "../../report/ledger-input.js"
import { UsageError } from "../../errors.js"
import { fileInside, reportFolder } from "../../report/output-paths.js"
import { readLedgerFlag } from "../shared-flags.js"
import { writeHtmlView } from "./ledger-view.js"

// the projection moved next to the report's types (the HTML view reads it too); re-exported for its callers
export { reportInputFromLedger }

export const reportCommand = Command.make(
  "report",
  {
    suite: Argument.String("suite").pipe(Argument.withDescription("the suite's name, as recorded in the ledger")),
    ledger: readLedgerFlag,
    out: Flag.String("out").pipe(Flag.optional, Flag.withDescription("output folder (default reports/<suite>)")),
    html: Flag.Boolean("html").pipe(
      Flag.withDefault(false),
      Flag.withDescription(
        "write one self-contained HTML page, <out>/index.html, instead of Markdown (the same page as `harness ledger view --suite`)"
      )
    )
  },
  (f) =>
    Effect.gen(function* () {
      if (f.html) {
        const out = yield* reportFolder(f.suite, Option.getOrUndefined(f.out))
        return yield* writeHtmlView(f.ledger, f.suite, join(out, "index.html"))
      }
      const store = yield* attempt(() => LedgerStore.open(f.ledger, { readonly: true }))
      try {
        const input = reportInputFromLedger(store, f.suite, suiteDescription(f.suite), new Date().toISOString())
        if (input.jobs.length === 0) {
          const suites = [...new Set(store.jobs().map((j) => j.suite))]
          return yield* new UsageError({
            message: `the ledger ${f.ledger} holds no jobs of suite "${f.suite}". Suites it holds: ${suites.join(", ") || "none"}. Run \`harness run ${f.suite}\` first.`
          })
        }
        const rendered = renderReport(input)
        const out = yield* reportFolder(f.suite, Option.getOrUndefined(f.out))
        const targets = yield* Effect.forEach(rendered.files, (file) => fileInside(out, file.name))
        mkdirSync(out, { recursive: true })
        writeFileSync(join(out, "README.md"), rendered.markdown)
        rendered.files.forEach((file, i) => writeFileSync(targets[i]!, file.content))
        yield* Console.log(
          `wrote ${join(out, "README.md")} and ${rendered.files.length} plot(s): ${rendered.files.map((x) => x.name).join(", ")}`
        )
      } finally {
        store.close()
      }
    })
).pipe(
  Command.withDescription(
    "Write a Markdown report with SVG plots for a suite from the ledger: perplexity against evaluation length (spread over seeds), per-position loss, " +
      "passkey accuracy, extensions, training curves; each number traceable to its ledger record hash."
  ),
  Command.withExamples([
    { command: "harness report quickstart", description: "reports/quickstart/README.md and its plots" },
    { command: "harness report quickstart --html", description: "reports/quickstart/index.html: one self-contained page, charts inline" }
  ])
)
