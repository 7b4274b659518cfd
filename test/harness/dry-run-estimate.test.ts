/**
 * `harness run --dry-run` estimates measured times: by a probe of the job's own model on the run's engine when
 * the ledger has not seen the cell, and from the ledger's finished jobs of the same cell (another seed) when it has.
 * (What the estimates are in seconds depends on the machine; only where they come from is asserted.)
 */
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { harness, scratch, tinySuite, writeSuite } from "./helpers.js"

afterEach(() => {
  process.exitCode = 0
})

describe("run --dry-run estimates", () => {
  it("probes a cell the ledger lacks, then uses the ledger once a seed of that cell has finished", async () => {
    const dir = scratch()
    const suite = writeSuite(dir, tinySuite({ embeddings: ["rope"] }))
    const ledger = join(dir, "ledger.db")
    const common = ["--ledger", ledger, "--backend", "cpu", "--checkpoints", join(dir, "ckpt")]

    const before = await harness("run", suite, "--dry-run", ...common)
    expect(before.exitCode, before.err).toBe(0)
    expect(before.out).toMatch(/tiny\/rope\/nano\/seed0 .* to run .* p\s*$/m)
    expect(before.out).toMatch(/p = measured just now by a probe .*1 job\(s\)/)

    const run = await harness("run", suite, ...common)
    expect(run.exitCode, run.err).toBe(0)

    const after = await harness("run", suite, "--dry-run", "--seeds", "0,1", ...common)
    expect(after.exitCode, after.err).toBe(0)
    expect(after.out).toMatch(/tiny\/rope\/nano\/seed0 .* done/)
    expect(after.out).toMatch(/tiny\/rope\/nano\/seed1 .* to run .* L\s*$/m)
    expect(after.out).toMatch(/L = measured by this ledger .* 1 job\(s\); p = .* 0 job\(s\)/)
  })
})
