/**
 * The CLI driven in-process (Command.runWith), with the console captured: what a user sees for --help,
 * `list`, and bad input (unknown suite, bad backend, malformed suite file).
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { harness } from "./helpers.js"

afterEach(() => {
  process.exitCode = 0
})

describe("harness CLI", () => {
  it("--help teaches: every command is listed with what it does", async () => {
    const r = await harness("--help")
    for (const cmd of ["run", "list", "inspect", "eval", "check", "ledger", "reproduce", "report", "bench"])
      expect(r.out).toMatch(new RegExp(`\\b${cmd}\\b`))
    expect(r.out).toMatch(/harness run quickstart/)
  })

  it("run --help shows the flags and examples", async () => {
    const r = await harness("run", "--help")
    for (const flag of ["--dry-run", "--force", "--seeds", "--backend", "--jobs", "--shard", "--ledger"]) expect(r.out).toContain(flag)
    expect(r.out).toMatch(/EXAMPLES/)
  })

  it("list names the suites, embeddings, scales and backends", async () => {
    const r = await harness("list")
    for (const word of [
      "quickstart",
      "smoke",
      "fope",
      "rope",
      "alibi",
      "kerple-log",
      "fire",
      "t5",
      "xpos",
      "nano",
      "60m",
      "wasm",
      "tensorflow"
    ])
      expect(r.out).toContain(word)
  })

  it("an unknown suite is a one-line error listing the valid suites, exit 1", async () => {
    const r = await harness("run", "quikstart", "--dry-run")
    expect(r.exitCode).toBe(1)
    expect(r.err).toMatch(/error: unknown suite "quikstart". Valid suites: .*quickstart.*smoke/)
  })

  it("an unknown backend is refused with the valid choices", async () => {
    const r = await harness("run", "quickstart", "--backend", "gpu")
    expect(r.exitCode).not.toBe(0)
    expect(`${r.out}\n${r.err}`).toMatch(/auto.*tensorflow.*wasm.*cpu/s)
  })

  it("a malformed suite file reports every problem with its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "suite-"))
    const path = join(dir, "bad.json")
    writeFileSync(
      path,
      JSON.stringify({
        name: "bad",
        description: "",
        embeddings: ["ropee"],
        scales: ["nano"],
        seeds: [0],
        data: { corpus: "sotu", tokenizer: "bytes" },
        training: { length: 64, steps: 0, batchSize: 8, learningRate: 0.001 },
        evaluation: { lengthMultiples: [1], tasks: ["perplexity"] }
      })
    )
    const r = await harness("run", path, "--dry-run")
    expect(r.exitCode).toBe(1)
    expect(r.err).toMatch(/training\.steps: Expected a value greater than 0/)
    writeFileSync(path, "{ not json")
    const r2 = await harness("run", path, "--dry-run")
    expect(r2.err).toMatch(/not valid JSON/)
  })

  it("inspect fope shows the floor clip: d=32, L=128 keeps 6 of 16 frequencies", async () => {
    const r = await harness("inspect", "fope", "--head-dim", "32", "--train-length", "128", "--json")
    const json = JSON.parse(r.out) as { spectrum: { kept: number[]; clipped: number[] } }
    const kept = json.spectrum.kept
    expect(json.spectrum.clipped).toHaveLength(10)
    expect(kept).toHaveLength(6)
  })

  it("inspect with an unknown embedding lists the valid ones", async () => {
    const r = await harness("inspect", "fpoe")
    expect(r.exitCode).toBe(1)
    expect(r.err).toMatch(/fpoe.*fope/s)
  })
})

describe("bad ledgers get a clear error and lose nothing", () => {
  it("a file that is not a ledger, and a tampered ledger, stop `harness run` before it trains", async () => {
    const { LedgerStore } = await import("../../ledger/store.js")
    const dir = mkdtempSync(join(tmpdir(), "ledger-"))
    const notALedger = join(dir, "notes.db")
    writeFileSync(notALedger, "these are my notes, not a database")
    const r1 = await harness("run", "quickstart", "--ledger", notALedger, "--backend", "cpu")
    expect(r1.exitCode).toBe(1)
    expect(r1.err).toMatch(/notes\.db.*not .*(SQLite|ledger)/i)

    const ledger = join(dir, "harness.db")
    const store = LedgerStore.open(ledger)
    const run = store.beginRun({ suite: "s", git: { commit: null, dirtyHash: null }, environment: {} })
    const job = store.startJob({ runId: run.id, key: "k".repeat(64), name: "s/x/nano/seed0", config: {}, seed: 0 })
    store.completeJob(job.id, { metrics: [{ name: "perplexity", value: 10, unit: "ppl", better: "lower", length: 64 }] })
    store.database.prepare("UPDATE metrics SET value = 5 WHERE name = 'perplexity'").run()
    store.close()
    const r2 = await harness("run", "quickstart", "--ledger", ledger, "--backend", "cpu")
    expect(r2.exitCode).toBe(1)
    expect(r2.err).toMatch(/fails verification at metrics/)
    const after = LedgerStore.open(ledger)
    expect(after.recordCount()).toBe(3) // nothing was appended
    after.close()
  })
})
