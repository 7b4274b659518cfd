/** A suite file's registry mistakes (unknown embedding or scale) are listed in the same report as its Schema mistakes. */
import { describe, expect, it } from "vitest"
import { parseSuiteSync } from "../../harness/suite/load-suite.js"
import { tinySuite } from "./helpers.js"

const problemsOf = (data: unknown): string => {
  try {
    parseSuiteSync(data, "bad.json")
  } catch (e) {
    return (e as Error).message
  }
  throw new Error("the suite was accepted")
}

describe("one report for every mistake", () => {
  it("unknown names beside Schema errors", () => {
    const message = problemsOf(
      tinySuite({
        embeddings: ["fpoe", { name: "rope" }, { name: "alibii", label: "a" }, 3],
        scales: ["nano", "nanoo"],
        training: { length: 16, steps: 0, batchSize: 2, learningRate: 0.003 }
      })
    )
    expect(message).toMatch(/^bad\.json: 5 problems in the suite file:/)
    expect(message).toContain(`embeddings[0]: unknown embedding "fpoe". Valid: `)
    expect(message).toContain(`embeddings[2]: unknown embedding "alibii"`)
    expect(message).toContain(`scales[1]: unknown scale "nanoo". Valid: nano`)
    expect(message).toMatch(/embeddings\[3\]: Expected string \| object/)
    expect(message).toMatch(/training\.steps: /)
  })

  it("a file whose only mistakes are names still gets them all", () => {
    const message = problemsOf(tinySuite({ embeddings: ["fpoe"], scales: ["nanoo"] }))
    expect(message).toMatch(/2 problems/)
  })

  it("bad embedding parameters: the path, the value and the allowed range or keys, beside the Schema's problems", () => {
    const entries = [
      { name: "fope", params: { sigma: -1, clip: "maybe", sigmaa: 0.3 } },
      { name: "alibi", params: { slope: 1 } },
      { name: "rope", params: { randomPositions: 0.5 } }
    ]
    const withSchemaError = problemsOf(
      tinySuite({ embeddings: entries, training: { length: 16, steps: 0, batchSize: 2, learningRate: 0.003 } })
    )
    const valid = problemsOf(tinySuite({ embeddings: entries }))
    for (const message of [withSchemaError, valid]) {
      expect(message).toContain("embeddings[0] (fope): params.sigma must be a number in [0, 10], default 0.3; got -1")
      expect(message).toContain('embeddings[0] (fope): params.clip must be true or false, default true; got "maybe"')
      expect(message).toMatch(/embeddings\[0\] \(fope\): params\.sigmaa is not a parameter of fope; its parameters are sigma .*base/)
      expect(message).toContain("embeddings[1] (alibi): params.slope is not a parameter: alibi takes no parameters")
      expect(message).toContain("embeddings[2] (rope): params.randomPositions must be an integer in [0, 16777216], default 0; got 0.5")
    }
    expect(withSchemaError).toMatch(/^bad\.json: 6 problems in the suite file:/)
    expect(withSchemaError).toMatch(/training\.steps: /)
    expect(valid).toMatch(/^bad\.json: 5 problems in the suite file:/)
  })
})
