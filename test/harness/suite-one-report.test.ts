/** A suite file's registry mistakes (unknown embedding or scale) are listed in the same report as its Schema mistakes. */
import { describe, expect, it } from "vitest"
import { parseSuite } from "../../harness/suite/load-suite.js"
import { tinySuite } from "./helpers.js"

const problemsOf = (data: unknown): string => {
  try {
    parseSuite(data, "bad.json")
  } catch (e) {
    return (e as Error).message
  }
  throw new Error("the suite was accepted")
}

describe("one report for every mistake", () => {
  it("unknown names beside Schema errors", () => {
    const message = problemsOf(
      tinySuite({ embeddings: ["fpoe", { name: "rope" }, { name: "alibii", label: "a" }, 3], scales: ["nano", "nanoo"], training: { length: 16, steps: 0, batchSize: 2, learningRate: 0.003 } })
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
})
