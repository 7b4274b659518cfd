/**
 * The suite loader and the flag parsers fail with tagged errors in their Effect's error channel, so a command can
 * handle each with Effect.catchTags, and report-failure.ts prints every domain error's message alone with exit 1.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { EmbeddingError } from "../../embeddings/interface.js"
import { LedgerBusy, type LedgerError, LedgerInvalid, LedgerTampered } from "../../ledger/errors.js"
import { LedgerStore } from "../../ledger/store.js"
import { parseIntList } from "../../harness/cli/commands/eval.js"
import { parseExtension, parseParam } from "../../harness/cli/commands/inspect.js"
import { findJob } from "../../harness/cli/commands/reproduce.js"
import { parseSeeds } from "../../harness/cli/commands/run.js"
import { reportFailure } from "../../harness/cli/report-failure.js"
import { isHarnessError, JobCrashed, JobRefused, SuiteError, TrainingDiverged, UsageError } from "../../harness/errors.js"
import { expandCells, expandPlan, parseShard } from "../../harness/plan/expand.js"
import { fileInside, reportFolder } from "../../harness/report/output-paths.js"
import { loadSuite, loadSuiteSync, parseSuite, parseSuiteSync, resolveSuitePath } from "../../harness/suite/load-suite.js"
import { scratch, tinySuite } from "./helpers.js"

/** Which handler of a catchTags over the harness's and the ledger's tags caught the failure ("ok" when none failed). */
const caughtBy = <A>(effect: Effect.Effect<A, SuiteError | UsageError | LedgerError>): string =>
  Effect.runSync(
    effect.pipe(
      Effect.as("ok"),
      Effect.catchTags({
        SuiteError: (e) => Effect.succeed(`SuiteError: ${e.message}`),
        UsageError: (e) => Effect.succeed(`UsageError: ${e.message}`),
        LedgerInvalid: (e) => Effect.succeed(`LedgerInvalid: ${e.message}`)
      }),
      Effect.catch((e) => Effect.succeed(`another tag: ${e._tag}`))
    )
  )

describe("the suite loader fails with SuiteError", () => {
  it("an unknown suite, a missing file, bad JSON and a bad suite: each caught by its tag", () => {
    const dir = scratch()
    expect(caughtBy(loadSuite("quickstart"))).toBe("ok")
    expect(caughtBy(resolveSuitePath("quikstart"))).toMatch(/^SuiteError: unknown suite "quikstart". Valid suites: .*quickstart/)
    expect(caughtBy(loadSuite("quikstart"))).toMatch(/^SuiteError: unknown suite "quikstart"/)
    expect(caughtBy(loadSuite(join(dir, "missing.json")))).toMatch(/^SuiteError: suite file not found: /)
    const broken = join(dir, "broken.json")
    writeFileSync(broken, "{ not json")
    expect(caughtBy(loadSuite(broken))).toMatch(/^SuiteError: .*broken\.json: not valid JSON: .*Fix the syntax/)
    expect(caughtBy(parseSuite(tinySuite({ seeds: [1.5] }), "bad.json"))).toMatch(
      /^SuiteError: bad\.json: 1 problem in the suite file:\n {2}- seeds\[0\]: Expected an integer/
    )
    expect(caughtBy(parseSuite(tinySuite({ embeddings: [{ name: "fope", params: { sigma: 99 } }] }), "bad.json"))).toContain(
      "embeddings[0] (fope): params.sigma must be a number in [0, 10], default 0.3; got 99"
    )
  })

  it("the synchronous wrappers throw the same SuiteError", () => {
    expect(loadSuiteSync("quickstart").suite.name).toBe("quickstart")
    expect(() => loadSuiteSync("quikstart")).toThrow(SuiteError)
    expect(() => parseSuiteSync({}, "empty.json")).toThrow(SuiteError)
    let thrown: unknown
    try {
      parseSuiteSync({}, "empty.json")
    } catch (e) {
      thrown = e
    }
    expect((thrown as SuiteError)._tag).toBe("SuiteError")
  })
})

describe("the flag parsers fail with UsageError", () => {
  it("--seeds, --shard, --multiples, --param, --extension-param", () => {
    expect(Effect.runSync(parseSeeds("0,1"))).toEqual([0, 1])
    expect(caughtBy(parseSeeds("a,1"))).toBe(
      'UsageError: --seeds "a,1" is not a comma-separated list of non-negative integers (for example --seeds 0,1,2)'
    )
    expect(Effect.runSync(parseShard("2/3"))).toEqual({ index: 2, count: 3 })
    expect(caughtBy(parseShard("3/2"))).toMatch(/^UsageError: --shard "3\/2" is not i\/N/)
    expect(Effect.runSync(parseIntList("--multiples", "1,2,4"))).toEqual([1, 2, 4])
    expect(caughtBy(parseIntList("--multiples", "1,0"))).toBe(
      'UsageError: --multiples "1,0" is not a comma-separated list of positive integers (for example --multiples 1,2,4)'
    )
    expect(Effect.runSync(parseParam("sigma=0.5"))).toEqual(["sigma", 0.5])
    expect(caughtBy(parseParam("sigma"))).toBe('UsageError: --param "sigma" is not key=value (for example --param sigma=0.3)')
  })

  it("--extension-param is decoded by the extension's Schema", () => {
    expect(Effect.runSync(parseExtension("yarn", ["temperature=false"]))).toEqual({ method: "yarn", temperature: false })
    expect(Effect.runSync(parseExtension("llama3", ["factor=8"]))).toEqual({ method: "llama3", factor: 8 })
    expect(Effect.runSync(parseExtension("none", []))).toEqual({ method: "none" })
    expect(caughtBy(parseExtension("pi", ["temperature=true"]))).toBe(
      'UsageError: --extension-param temperature: extension "pi" takes no parameters (harness list --what extensions)'
    )
    expect(caughtBy(parseExtension("yarn", ["factor=2"]))).toBe(
      'UsageError: --extension-param factor: extension "yarn" takes temperature (harness list --what extensions)'
    )
    expect(caughtBy(parseExtension("yarn", ["temperature=1"]))).toBe("UsageError: --extension-param temperature=1: expected true or false")
    expect(caughtBy(parseExtension("llama3", ["factor=0.5"]))).toBe(
      "UsageError: --extension-param factor=0.5: expected a number in [1, inf]"
    )
    expect(caughtBy(parseExtension("llama3", ["lowFreqFactor=0"]))).toBe(
      "UsageError: --extension-param lowFreqFactor=0: expected a number in (0, inf]"
    )
  })

  it("report paths, plans and job references", () => {
    expect(Effect.runSync(reportFolder("quickstart", undefined))).toBe(join("reports", "quickstart"))
    expect(caughtBy(reportFolder("../../etc", undefined))).toMatch(/^UsageError: the suite name "\.\.\/\.\.\/etc" cannot name a folder/)
    expect(caughtBy(fileInside("out", "../x.svg"))).toMatch(/^UsageError: refusing to write report file "\.\.\/x\.svg"/)
    const suite = loadSuiteSync("quickstart").suite
    expect(caughtBy(expandCells(suite, [0, 0]))).toMatch(/^UsageError: suite "quickstart": --seeds\[1\]: seed 0 is already --seeds\[0\]/)
    expect(caughtBy(expandPlan(suite, { dataHash: "d", codeVersion: "c", seeds: [1, 1] }))).toMatch(/^UsageError: /)

    const path = join(scratch(), "ledger.db")
    const store = LedgerStore.open(path)
    expect(caughtBy(findJob(store, "abc"))).toMatch(/^UsageError: no done job with id or key starting "abc"/)
    store.close()
    // a ledger failure keeps its own tag, not a usage error's
    const failing = {
      file: "x.db",
      job: () => {
        throw new LedgerInvalid({ file: "x.db", message: "ledger x.db: cannot read" })
      }
    } as unknown as LedgerStore
    expect(caughtBy(findJob(failing, "abc"))).toBe("LedgerInvalid: ledger x.db: cannot read")
  })
})

describe("report-failure prints a domain error's message alone, exit 1", () => {
  afterEach(() => {
    process.exitCode = 0
    vi.restoreAllMocks()
  })

  const reported = (error: unknown): { stderr: string; exitCode: number | string | null | undefined } => {
    let stderr = ""
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk)
      return true
    })
    Effect.runSync(reportFailure(error))
    const exitCode = process.exitCode
    vi.restoreAllMocks()
    process.exitCode = 0
    return { stderr, exitCode }
  }

  it("every tag of the harness and the ledger, and the plain domain errors", () => {
    const domain: unknown[] = [
      new SuiteError({ message: "bad suite" }),
      new UsageError({ message: "bad flag" }),
      new JobRefused({ message: "needs a GPU" }),
      new TrainingDiverged({ message: "loss NaN", step: 3 }),
      new JobCrashed({ message: "out of memory", step: 4 }),
      new LedgerBusy({ file: "a.db", message: "locked" }),
      new LedgerTampered({ file: "a.db", message: "tampered" }),
      new EmbeddingError("no such extension")
    ]
    for (const error of domain) {
      const { stderr, exitCode } = reported(error)
      expect(stderr).toBe(`error: ${(error as Error).message}\n`)
      expect(exitCode).toBe(1)
    }
    expect(domain.slice(0, 5).every(isHarnessError)).toBe(true)
    expect(isHarnessError(new LedgerBusy({ file: "a.db", message: "locked" }))).toBe(false)
    const bug = reported(new TypeError("x is undefined"))
    expect(bug.stderr).toMatch(/^internal error \(please report it with the command you ran\): TypeError: x is undefined/)
    expect(bug.exitCode).toBe(1)
  })
})
