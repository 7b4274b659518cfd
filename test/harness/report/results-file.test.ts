/**
 * The committed results: results/claims.jsonl imports into a fresh ledger with its hash chain verified, and
 * `harness results` regenerates RESULTS.md and the per-suite reports under results/ byte for byte from it, so
 * every number in RESULTS.md traces to a record in the committed export.
 */
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { importJsonl } from "../../../ledger/export.js"
import { LedgerStore } from "../../../ledger/store.js"
import { buildResults } from "../../../harness/cli/commands/results.js"

const root = join(import.meta.dirname, "..", "..", "..")

describe("RESULTS.md", () => {
  it("is what `harness results` produces from the committed export, which verifies", () => {
    const dir = mkdtempSync(join(tmpdir(), "fope-results-"))
    const store = LedgerStore.open(join(dir, "claims.db"))
    try {
      const imported = importJsonl(store, readFileSync(join(root, "results", "claims.jsonl"), "utf8"), "results/claims.jsonl")
      expect(imported).toBeGreaterThan(0)
      expect(store.verify().ok).toBe(true)
      const files = buildResults(store, "RESULTS.md", "results")
      expect(files.length).toBeGreaterThan(1)
      for (const file of files)
        expect(readFileSync(join(root, file.path), "utf8"), `${file.path} differs from what harness results writes`).toBe(file.content)
    } finally {
      store.close()
    }
  })
})
