import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { listSuiteNames, loadSuiteSync, parseSuiteSync, resolveSuitePath } from "../../harness/suite/load-suite.js"
import { expandCells, expandPlan, parseShard } from "../../harness/plan/expand.js"
import { parseSeeds } from "../../harness/cli/commands/run.js"
import { SuiteError, UsageError } from "../../harness/errors.js"

const base = () => JSON.parse(JSON.stringify(loadSuiteSync("quickstart").suite))

describe("shipped suites", () => {
  it("every shipped suite decodes and cross-checks", () => {
    const names = listSuiteNames()
    for (const required of [
      "quickstart",
      "smoke",
      "length-generalization",
      "fope-ablations",
      "extension",
      "embedding-microbench",
      "paper-60m",
      "paper-180m"
    ]) {
      expect(names).toContain(required)
    }
    for (const n of names) expect(loadSuiteSync(n).suite.name).toBe(n)
  })

  it("quickstart is RoPE, FoPE and NoPE evaluated at 1x, 2x and 4x", () => {
    const { suite } = loadSuiteSync("quickstart")
    expect(suite.embeddings).toEqual(["rope", "fope", "nope"])
    expect(suite.evaluation.lengthMultiples).toEqual([1, 2, 4])
  })
})

describe("suite errors", () => {
  it("an unknown suite name lists the valid ones", () => {
    expect(() => Effect.runSync(resolveSuitePath("quikstart"))).toThrow(/unknown suite "quikstart". Valid suites: .*quickstart/)
  })

  it("a file with three mistakes reports all three, each with its path", () => {
    const s = base()
    s.seeds = [1.5]
    s.training.length = -4
    s.evaluation.tasks = ["perplexity", "bogus"]
    let message = ""
    try {
      parseSuiteSync(s, "bad.json")
    } catch (e) {
      expect(e).toBeInstanceOf(SuiteError)
      message = (e as SuiteError).message
    }
    expect(message).toMatch(/3 problems/)
    expect(message).toMatch(/seeds\[0\]: Expected an integer/)
    expect(message).toMatch(/training\.length: .*8/)
    expect(message).toMatch(/evaluation\.tasks\[1\]: Expected "perplexity" \| "loss-curve" \| "passkey" \| "spectrum"/)
  })

  it("unknown embeddings, bad parameters, unknown scales and stray keys are all reported at once", () => {
    const s = base()
    s.embeddings = ["rope", "fpoe", { name: "fope", params: { sigma: -1 } }]
    s.scales = ["nano", "huge"]
    s.trainig = {}
    expect(() => parseSuiteSync(s, "bad.json")).toThrow(/trainig/)
    delete s.trainig
    let message = ""
    try {
      parseSuiteSync(s, "bad.json")
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(/embeddings\[1\]: unknown embedding "fpoe". Valid: .*fope/)
    expect(message).toMatch(/embeddings\[2\] \(fope\): .*sigma/)
    expect(message).toMatch(/scales\[1\]: unknown scale "huge". Valid: .*nano/)
  })

  it("passkey with a byte tokenizer needs a training length of at least 256", () => {
    const s = base()
    s.evaluation.tasks = ["perplexity", "passkey"]
    expect(() => parseSuiteSync(s, "bad.json")).toThrow(/passkey.*256/)
  })
})

describe("plan expansion", () => {
  const suite = () => {
    const s = base()
    s.embeddings = ["rope", "fope", "nope"]
    s.scales = ["nano", "micro"]
    s.seeds = [0, 1]
    return parseSuiteSync(s, "t.json")
  }

  it("is the full matrix in a deterministic order", () => {
    const cells = Effect.runSync(expandCells(suite()))
    expect(cells).toHaveLength(12)
    expect(cells.slice(0, 3).map((c) => `${c.label}/${c.scale}/${c.seed}`)).toEqual(["rope/nano/0", "rope/nano/1", "rope/micro/0"])
  })

  it("exclude removes matching cells and include re-admits them", () => {
    const s = { ...suite(), matrix: { exclude: [{ scale: "micro" }], include: [{ embedding: "fope", scale: "micro", seed: 1 }] } }
    const names = Effect.runSync(expandCells(s)).map((c) => `${c.label}/${c.scale}/${c.seed}`)
    expect(names).toHaveLength(7)
    expect(names).toContain("fope/micro/1")
    expect(names).not.toContain("rope/micro/0")
  })

  it("keys depend on the configuration, the data hash and the code version, and are stable", () => {
    const s = suite()
    const a = Effect.runSync(expandPlan(s, { dataHash: "d1", codeVersion: "c1" }))
    const b = Effect.runSync(expandPlan(s, { dataHash: "d1", codeVersion: "c1" }))
    expect(a.map((j) => j.key)).toEqual(b.map((j) => j.key))
    expect(new Set(a.map((j) => j.key)).size).toBe(a.length)
    expect(Effect.runSync(expandPlan(s, { dataHash: "d2", codeVersion: "c1" }))[0]!.key).not.toBe(a[0]!.key)
    expect(Effect.runSync(expandPlan(s, { dataHash: "d1", codeVersion: "c2" }))[0]!.key).not.toBe(a[0]!.key)
    expect(a[0]!.config.embedding.params).toHaveProperty("base")
  })

  it("shards are a deterministic partition of the plan", () => {
    const s = suite()
    const all = Effect.runSync(expandPlan(s, { dataHash: "d", codeVersion: "c" })).map((j) => j.key)
    const one = Effect.runSync(expandPlan(s, { dataHash: "d", codeVersion: "c", shard: Effect.runSync(parseShard("1/2")) })).map(
      (j) => j.key
    )
    const two = Effect.runSync(expandPlan(s, { dataHash: "d", codeVersion: "c", shard: Effect.runSync(parseShard("2/2")) })).map(
      (j) => j.key
    )
    expect(one.length + two.length).toBe(all.length)
    expect(new Set([...one, ...two])).toEqual(new Set(all))
    expect(one.filter((k) => two.includes(k))).toEqual([])
  })

  it("bad --shard and --seeds values are usage errors that show a correct example", () => {
    expect(() => Effect.runSync(parseShard("3/2"))).toThrow(UsageError)
    expect(() => Effect.runSync(parseShard("1-2"))).toThrow(/--shard 1\/2/)
    expect(Effect.runSync(parseSeeds("0, 1,2"))).toEqual([0, 1, 2])
    expect(() => Effect.runSync(parseSeeds("a,1"))).toThrow(/--seeds 0,1,2/)
  })
})

describe("suite JSON Schema for editors", () => {
  it("suites/suite.schema.json is up to date with suites/schema.ts (run `npm run schema` after changing it)", async () => {
    const { readFileSync } = await import("node:fs")
    const { suiteJsonSchemaText } = await import("../../harness/suite/json-schema.js")
    expect(readFileSync(new URL("../../suites/suite.schema.json", import.meta.url), "utf8")).toBe(suiteJsonSchemaText())
  })
})
