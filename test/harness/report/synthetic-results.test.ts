/**
 * The committed synthetic-suite results: results/synthetic/synthetic.jsonl imports with its chain verified, and
 * the two committed reports are what `harness report` renders from it (the "Generated" time taken from the file),
 * so every accuracy in them traces to a record of the export.
 */
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { importJsonl } from "../../../ledger/export.js"
import { LedgerStore } from "../../../ledger/store.js"
import { reportInputFromLedger, suiteDescription } from "../../../harness/report/ledger-input.js"
import { renderReport } from "../../../harness/report/render.js"

const root = join(import.meta.dirname, "..", "..", "..")
const folder = join(root, "results", "synthetic")

describe("results/synthetic", () => {
  it("imports and verifies, and its reports are what harness report renders from it", () => {
    const dir = mkdtempSync(join(tmpdir(), "fope-synthetic-"))
    const store = LedgerStore.open(join(dir, "synthetic.db"))
    try {
      expect(importJsonl(store, readFileSync(join(folder, "synthetic.jsonl"), "utf8"), "synthetic.jsonl")).toBeGreaterThan(0)
      expect(store.verify().ok).toBe(true)
      for (const suite of ["synthetic-length-generalization", "synthetic-copy-reverse"]) {
        const committed = readFileSync(join(folder, suite, "README.md"), "utf8")
        const generatedAt = /\*\*Generated:\*\* (\S+)/.exec(committed)?.[1] ?? ""
        const input = reportInputFromLedger(store, suite, suiteDescription(suite), generatedAt)
        expect(input.jobs.filter((j) => j.status === "done")).toHaveLength(18)
        // the committed report names the ledger it was rendered from by its relative path
        const rendered = renderReport({ ...input, ledgerPath: "synthetic.db" })
        expect(committed, `${suite}/README.md differs from what harness report renders`).toBe(rendered.markdown)
        for (const file of rendered.files) expect(readFileSync(join(folder, suite, file.name), "utf8")).toBe(file.content)
      }
    } finally {
      store.close()
    }
  })
})
