/**
 * `harness check --baseline <file or run>`: the regression gate. A regression is a change that is significant
 * AND beyond the metric's threshold in its bad direction (asv's rule), Holm-corrected across metrics x lengths;
 * metrics from a bitwise-deterministic backend are flagged on any change. Exit 1 with a table on regression.
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { CHECK_FORMATS, checkCommand } from "../../../ledger/commands.js"
import { loadSuite } from "../../suite/load-suite.js"
import { emit } from "../command-result.js"
import { readLedgerFlag } from "../shared-flags.js"

export const checkCliCommand = Command.make(
  "check",
  {
    baseline: Flag.String("baseline").pipe(
      Flag.withDescription("the baseline: a ledger file (e.g. the committed baselines/smoke.db) or a run / suite@commit in --ledger")
    ),
    candidate: Flag.String("candidate").pipe(
      Flag.withDefault("latest"),
      Flag.withDescription("what is judged: a run, suite@commit or ledger file (default: the latest run in --ledger)")
    ),
    ledger: readLedgerFlag,
    suite: Flag.String("suite").pipe(
      Flag.optional,
      Flag.withDescription("take per-metric thresholds from this suite (name or path); they live in its `thresholds`")
    ),
    alpha: Flag.Finite("alpha").pipe(Flag.withDefault(0.05), Flag.withDescription("family-wise significance level (Holm)")),
    all: Flag.Boolean("all").pipe(Flag.withDefault(false), Flag.withDescription("list unchanged metrics too")),
    format: Flag.Literals("format", CHECK_FORMATS).pipe(
      Flag.withDefault("table" as const),
      Flag.withDescription(
        "table: fixed width, for a terminal or a CI log; markdown: for a CI job summary or a pull-request comment (verdicts, then the changed cells with their record hashes); " +
          "junit: JUnit XML, one test case per compared cell, a regressed cell a failure; json: for scripts. The exit code is the same in every format"
      )
    ),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("machine-readable output (the same as --format json)"))
  },
  (f) =>
    Effect.gen(function* () {
      const suiteName = Option.getOrUndefined(f.suite)
      const thresholds = suiteName === undefined ? undefined : (yield* loadSuite(suiteName)).suite.thresholds
      const format = f.json ? "json" : f.format
      yield* emit(
        checkCommand({
          ledger: f.ledger,
          baseline: f.baseline,
          candidate: f.candidate,
          alpha: f.alpha,
          all: f.all,
          format,
          ...(thresholds ? { thresholds } : {})
        }),
        format === "json"
      )
    })
).pipe(
  Command.withDescription(
    "Flag regressions against a baseline with an exit code CI can trust: 1 when a metric got worse significantly AND beyond its threshold " +
      "(Holm-corrected across metrics x lengths; any change on a bitwise-deterministic backend), else 0. Thresholds per metric come from the suite file."
  ),
  Command.withExamples([
    {
      command: "harness check --baseline baselines/smoke.db --ledger ci.db --suite smoke",
      description: "what .ci/run does after `harness run smoke`"
    },
    {
      command: 'harness check --baseline baseline.db --ledger ci.db --suite smoke --format markdown >> "$GITHUB_STEP_SUMMARY"',
      description: "the verdict as a GitHub Actions job summary (.github/workflows/regression-gate.yml)"
    },
    {
      command: "harness check --baseline baseline.db --ledger ci.db --suite smoke --format junit > check.xml",
      description: "JUnit XML for a CI server's test report"
    }
  ])
)
