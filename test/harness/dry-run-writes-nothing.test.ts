/** `harness run --dry-run` plans against the ledger without creating, migrating or writing it. */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { harness, scratch, tinySuite, writeSuite } from "./helpers.js"

afterEach(() => {
  process.exitCode = 0
})

describe("run --dry-run writes nothing", () => {
  it("with no ledger yet: prints the plan, every job to run, and creates no file", async () => {
    const dir = scratch()
    const suite = writeSuite(dir, tinySuite())
    const ledger = join(dir, "never-created.db")
    const r = await harness("run", suite, "--dry-run", "--ledger", ledger, "--backend", "wasm")
    expect(r.exitCode, r.err).toBe(0)
    expect(r.out).toMatch(/2 job\(s\), 2 to run, 0 already done/)
    expect(existsSync(ledger)).toBe(false)
    expect(existsSync(`${ledger}-wal`)).toBe(false)
  })

  it("with a ledger: reads it and leaves it byte-identical", async () => {
    const dir = scratch()
    const suite = writeSuite(dir, tinySuite())
    const ledger = join(dir, "existing.db")
    const store = LedgerStore.open(ledger)
    store.finishRun(store.beginRun({ suite: "other", git: { commit: null, dirtyHash: null }, environment: {} }).id)
    store.close()
    const before = readFileSync(ledger)
    const r = await harness("run", suite, "--dry-run", "--ledger", ledger, "--backend", "wasm")
    expect(r.exitCode, r.err).toBe(0)
    expect(readFileSync(ledger).equals(before)).toBe(true)
  })
})
