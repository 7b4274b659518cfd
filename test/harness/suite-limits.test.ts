/**
 * Suites within bounds: every numeric field has a documented range (Schema and JSON Schema), a plan too large is
 * refused by its size before it is expanded, repeated seeds are refused, combinations that cannot work are
 * reported with the other problems, and suite names cannot steer report paths.
 */
import { writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadSuiteSync, parseSuiteSync } from "../../harness/suite/load-suite.js"
import { evaluationLengthProblem } from "../../harness/suite/suite-limits.js"
import { suiteJsonSchema } from "../../harness/suite/json-schema.js"
import { expandCells } from "../../harness/plan/expand.js"
import { fileInside, reportFolder } from "../../harness/report/output-paths.js"
import { SuiteError, UsageError } from "../../harness/errors.js"
import { LIMITS, type Suite } from "../../suites/schema.js"
import { scratch } from "./helpers.js"

const base = () => JSON.parse(JSON.stringify(loadSuiteSync("quickstart").suite)) as Record<string, any>

const problemsOf = (data: unknown): string => {
  try {
    parseSuiteSync(data, "suite.json")
  } catch (e) {
    expect(e).toBeInstanceOf(SuiteError)
    return (e as SuiteError).message
  }
  throw new Error("expected the suite to be refused")
}

describe("the plan's size", () => {
  it("a suite file with 200,000 seeds is refused in under a second, with the count and the limit", () => {
    const s = base()
    s.seeds = Array.from({ length: 200_000 }, (_, i) => i)
    const path = join(scratch(), "huge.json")
    writeFileSync(path, JSON.stringify(s))
    const started = performance.now()
    let message = ""
    try {
      loadSuiteSync(path)
    } catch (e) {
      message = (e as SuiteError).message
    }
    const ms = performance.now() - started
    expect(message).toMatch(
      /\(top level\): the plan has 3 embeddings x 1 scale x 200,000 seeds = 600,000 jobs, more than the limit of 10,000 jobs/
    )
    expect(message).toMatch(/seeds: at most 1000 seeds/)
    expect(ms).toBeLessThan(1000)
  })

  it("--seeds with 200,000 entries is refused before a single cell is built", () => {
    const { suite } = loadSuiteSync("quickstart")
    const seeds = Array.from({ length: 200_000 }, (_, i) => i)
    const started = performance.now()
    expect(() => Effect.runSync(expandCells(suite, seeds))).toThrow(/600,000 jobs, more than the limit of 10,000/)
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it("embeddings x scales x seeds within each list's bound can still be too many jobs", () => {
    const s = base()
    s.seeds = Array.from({ length: 1000 }, (_, i) => i)
    s.embeddings = Array.from({ length: 11 }, (_, i) => ({ name: "rope", label: `rope-${i}` }))
    expect(problemsOf(s)).toMatch(/11 embeddings x 1 scale x 1,000 seeds = 11,000 jobs, more than the limit of 10,000/)
  })
})

describe("repeated seeds", () => {
  it("in the suite file: refused like repeated embeddings, with both positions", () => {
    const s = base()
    s.seeds = [0, 1, 0]
    expect(problemsOf(s)).toMatch(/seeds\[2\]: seed 0 is already seeds\[0\]/)
  })
  it("on the command line (--seeds 0,0)", () => {
    const { suite } = loadSuiteSync("quickstart")
    expect(() => Effect.runSync(expandCells(suite, [0, 0]))).toThrow(UsageError)
    expect(() => Effect.runSync(expandCells(suite, [0, 0]))).toThrow(/--seeds\[1\]: seed 0 is already --seeds\[0\]/)
  })
})

describe("ranges", () => {
  it("absurd values are refused, all in one report, each with its path", () => {
    const s = base()
    s.training.steps = 1e12
    s.training.length = 1e9
    s.training.batchSize = 1e9
    s.training.learningRate = 1e308
    s.evaluation.maxWindows = 1e15
    s.evaluation.passkeyTrials = 1e9
    s.evaluation.lossBuckets = 1e9
    s.seeds = [2 ** 32]
    s.thresholds = { perplexity: { relative: 1e6 } }
    const message = problemsOf(s)
    expect(message).toMatch(/9 problems/)
    for (const path of [
      "training.steps",
      "training.length",
      "training.batchSize",
      "training.learningRate",
      "evaluation.maxWindows",
      "evaluation.passkeyTrials",
      "evaluation.lossBuckets",
      "seeds\\[0\\]",
      "thresholds.perplexity.relative"
    ]) {
      expect(message).toMatch(new RegExp(`  - ${path}: Expected a value (between|less than or equal to) `))
    }
  })

  it("the JSON Schema gives editors the same ranges", () => {
    const schema = suiteJsonSchema() as any
    const training = schema.properties.training.properties
    expect(training.steps).toMatchObject({ exclusiveMinimum: 0, maximum: LIMITS.steps.maximum })
    expect(training.length).toMatchObject({ minimum: 8, maximum: LIMITS.trainLength.maximum })
    expect(training.batchSize).toMatchObject({ maximum: LIMITS.batchSize.maximum })
    expect(training.learningRate).toMatchObject({ exclusiveMinimum: 0, maximum: 1 })
    expect(training.warmupSteps).toMatchObject({ minimum: 0, maximum: LIMITS.steps.maximum })
    expect(training.checkpointEvery).toMatchObject({ exclusiveMinimum: 0, maximum: LIMITS.steps.maximum })
    const evaluation = schema.properties.evaluation.properties
    for (const field of ["maxWindows", "passkeyTrials", "lossBuckets"]) expect(evaluation[field].maximum, field).toBeTypeOf("number")
    expect(evaluation.lengthMultiples.items).toMatchObject({ exclusiveMinimum: 0, maximum: 64 })
    expect(schema.properties.seeds).toMatchObject({ maxItems: LIMITS.seeds.maxItems, items: { minimum: 0, maximum: 0xffffffff } })
    expect(schema.properties.name.pattern).toBe("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
  })
})

describe("combinations that cannot work", () => {
  it("warm-up longer than training, a threshold no task records, repeated lengths, more loss buckets than positions: all at once", () => {
    const s = base()
    s.training.warmupSteps = s.training.steps + 1
    s.thresholds = { ...s.thresholds, passkey_accuracy: { absolute: 0.1 }, "perplexity@yarn": { relative: 0.1 } }
    s.evaluation.lengthMultiples = [1, 2, 2]
    s.evaluation.lossBuckets = 4096
    s.training.learningRate = 5
    const message = problemsOf(s)
    expect(message).toMatch(/5 problems/)
    expect(message).toMatch(/training\.warmupSteps: 301 warm-up steps is more than training\.steps \(300\)/)
    expect(message).toMatch(
      /thresholds\.passkey_accuracy: no task of this suite records a metric "passkey_accuracy" \(tasks: perplexity, loss-curve, spectrum\)/
    )
    expect(message).not.toMatch(/thresholds\.perplexity@yarn/)
    expect(message).toMatch(/evaluation\.lengthMultiples\[2\]: 2 is already evaluation\.lengthMultiples\[1\]/)
    expect(message).toMatch(/evaluation\.lossBuckets: 4096 buckets over 128 positions/)
    expect(message).toMatch(/training\.learningRate: Expected a value less than or equal to 1/)
  })

  it("an evaluation longer than the validation split: named with both sizes", () => {
    const suite = {
      ...loadSuiteSync("quickstart").suite,
      training: { ...loadSuiteSync("quickstart").suite.training, length: 4096 }
    } as Suite
    expect(evaluationLengthProblem(suite, 1_052_035)).toBeUndefined()
    expect(evaluationLengthProblem(suite, 16_000)).toMatch(
      /the longest evaluation length, 16,384 tokens \(training\.length 4096 x 4\), needs 16,385 tokens in one window, but the sotu validation split has 16,000 bytes tokens/
    )
  })
})

describe("suite names and report paths", () => {
  for (const name of ["../escape", "a/b", "line\nbreak", "bell\u0007", "", ".hidden", "x".repeat(65)]) {
    it(`the name ${JSON.stringify(name.slice(0, 12))} is refused by the schema`, () => {
      const s = base()
      s.name = name
      expect(problemsOf(s)).toMatch(/name: a suite name is 1-64 letters, digits/)
    })
  }

  it("report files stay inside the output folder", () => {
    expect(Effect.runSync(reportFolder("quickstart", undefined))).toBe(join("reports", "quickstart"))
    expect(Effect.runSync(reportFolder("../../etc", "out"))).toBe("out")
    expect(() => Effect.runSync(reportFolder("../../etc", undefined))).toThrow(/cannot name a folder.*pass --out/)
    expect(Effect.runSync(fileInside("out", "perplexity.svg"))).toBe(resolve("out", "perplexity.svg"))
    for (const bad of ["../x.svg", "/etc/passwd", "a/../../b", "sub/x.svg", ".."]) {
      expect(() => Effect.runSync(fileInside("out", bad)), bad).toThrow(/not a plain file name inside out/)
    }
  })
})
