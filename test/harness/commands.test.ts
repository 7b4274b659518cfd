/**
 * The commands a researcher uses after a run, driven in-process on a real tiny run: report (Markdown + SVG), eval of
 * a checkpoint under an extension, ledger export / import / diff, and check against itself (an A/A comparison).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { harness, scratch, tinySuite, writeSuite } from "./helpers.js"

const dir = scratch("fope-commands-")
const ledger = join(dir, "harness.db")
const checkpoints = join(dir, "ckpt")

beforeAll(async () => {
  const suite = writeSuite(
    dir,
    tinySuite({
      name: "cmds",
      embeddings: ["rope", "alibi"],
      evaluation: { lengthMultiples: [1, 2], tasks: ["perplexity", "loss-curve"], maxWindows: 2 }
    })
  )
  const r = await harness("run", suite, "--ledger", ledger, "--checkpoints", checkpoints, "--backend", "wasm", "--threads", "1")
  expect(r.exitCode).toBe(0)
})

describe("commands on a finished run", () => {
  it("report writes Markdown and SVG plots, every job traceable by its record hash", async () => {
    const out = join(dir, "report")
    const r = await harness("report", "cmds", "--ledger", ledger, "--out", out)
    expect(r.exitCode).toBe(0)
    const md = readFileSync(join(out, "README.md"), "utf8")
    expect(md).toMatch(/\| rope \|/)
    expect(md).toMatch(/\| alibi \|/)
    expect(readdirSync(out)).toContain("perplexity-by-length.svg")
    expect(readFileSync(join(out, "perplexity-by-length.svg"), "utf8")).toMatch(/<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    const store = LedgerStore.open(ledger)
    const doneHashes = [...store.chainRecords()].filter((rec) => rec.kind === "job.done").map((rec) => rec.hash.slice(0, 12))
    store.close()
    for (const h of doneHashes) expect(md).toContain(h)
  })

  it("a report for a suite the ledger does not hold says which suites it holds", async () => {
    const r = await harness("report", "quickstart", "--ledger", ledger, "--out", join(dir, "nothing"))
    expect(r.exitCode).toBe(1)
    expect(r.err).toMatch(/holds no jobs of suite "quickstart". Suites it holds: cmds/)
  })

  it("eval re-evaluates a checkpoint under YaRN without retraining, and records it", async () => {
    const store = LedgerStore.open(ledger)
    const rope = store.jobs({ status: "done" }).find((j) => j.name.includes("/rope/"))!
    const checkpoint = store.artifacts(rope.id).find((a) => a.kind === "checkpoint")!
    const plain = store.metrics(rope.id).find((m) => m.name === "perplexity" && m.length === 16)!.value
    store.close()
    const r = await harness(
      "eval",
      checkpoint.path,
      "--multiples",
      "1,2",
      "--extension",
      "none",
      "--extension",
      "yarn",
      "--max-windows",
      "2",
      "--ledger",
      ledger,
      "--backend",
      "wasm"
    )
    expect(r.exitCode).toBe(0)
    expect(r.out).toMatch(/^none\s+\S+\s+\S+$/m)
    expect(r.out).toMatch(/^yarn\s+\S+\s+\S+$/m)
    // the checkpoint reproduces the perplexity recorded by the run, at the training length
    expect(r.out).toContain(String(Number(plain.toPrecision(4))))
    const after = LedgerStore.open(ledger)
    expect(after.jobs({ suite: "eval" })).toHaveLength(1)
    after.close()
  })

  it("export -> import round trip keeps every record hash; diff of the two finds nothing changed; check A/A exits 0", async () => {
    const exported = join(dir, "export.jsonl")
    expect((await harness("ledger", "export", "--ledger", ledger, "--format", "jsonl", "--out", exported)).exitCode).toBe(0)
    const copy = join(dir, "copy.db")
    const imp = await harness("ledger", "import", exported, "--ledger", copy)
    expect(imp.exitCode).toBe(0)
    const a = LedgerStore.open(ledger)
    const b = LedgerStore.open(copy)
    expect([...b.chainRecords()].map((r) => r.hash)).toEqual([...a.chainRecords()].map((r) => r.hash))
    a.close()
    b.close()
    const diff = await harness("ledger", "diff", ledger, copy)
    expect(diff.out).toMatch(/^0 of \d+ compared metrics changed/m)
    const check = await harness("check", "--baseline", copy, "--ledger", ledger, "--candidate", ledger)
    expect(check.exitCode).toBe(0)
    const bmf = await harness("ledger", "export", "--ledger", ledger, "--format", "bmf")
    const parsed = JSON.parse(bmf.out) as Record<string, Record<string, { value: number }>>
    expect(Object.keys(parsed).length).toBeGreaterThan(0)
    expect(existsSync(exported)).toBe(true)
  })
})
