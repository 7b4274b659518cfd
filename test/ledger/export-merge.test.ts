import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { exportCommand, importCommand, mergeCommand } from "../../ledger/commands.js"
import { exportBmf, exportCsv, exportJsonl, importJsonl, parseJsonl } from "../../ledger/export.js"
import { mergeLedgers } from "../../ledger/merge.js"
import { LedgerStore } from "../../ledger/store.js"
import { lossAt, runInfo, tempDir, tempLedgerPath, writeRun } from "./helpers.js"

const seeded = (path: string) => {
  const store = LedgerStore.open(path)
  writeRun(store, [
    { cell: "s/rope/tiny", seed: 1, metrics: lossAt([64, 128], (l) => 3 + l / 1000) },
    { cell: "s/rope/tiny", seed: 2, metrics: lossAt([64, 128], (l) => 3.01 + l / 1000) },
    {
      cell: "s/fope/tiny",
      seed: 1,
      metrics: [
        ...lossAt([64, 128], (l) => 2.9 + l / 1000),
        { name: "tokens_per_second", value: 1234.5, unit: "tokens/s", better: "higher" }
      ]
    }
  ])
  const run = store.beginRun(runInfo())
  const j = store.startJob({ runId: run.id, key: "failing", name: "s/alibi/tiny/seed1", config: { note: 'quote " and, comma' }, seed: 1 })
  store.failJob(j.id, { error: "out of memory", step: 3 })
  return store
}

describe("JSON Lines export / import", () => {
  it("round trip preserves every record and hash, and the imported ledger verifies", () => {
    const a = seeded(tempLedgerPath("a.sqlite"))
    const text = exportJsonl(a)
    const lines = text.trim().split("\n")
    expect(JSON.parse(lines[0])).toEqual({ format: "fope-harness-ledger", version: 1 })
    expect(lines).toHaveLength(1 + a.recordCount())

    const b = LedgerStore.open(tempLedgerPath("b.sqlite"))
    expect(importJsonl(b, text)).toBe(a.recordCount())
    expect([...b.chainRecords()]).toEqual([...a.chainRecords()])
    expect(b.verify()).toMatchObject({ ok: true, headHash: a.verify().headHash })
    expect(exportJsonl(b)).toBe(text)
    expect(b.jobs().map((j) => [j.key, j.status])).toEqual(a.jobs().map((j) => [j.key, j.status]))
    // importing the same export again is a no-op; a longer export continues the chain
    expect(importJsonl(b, text)).toBe(0)
    a.close()
    b.close()
  })

  it("an edited export is refused, naming the record, and nothing is written", () => {
    const a = seeded(tempLedgerPath("a.sqlite"))
    const edited = exportJsonl(a).replace('"value":3.064', '"value":3.001')
    expect(parseJsonl(edited).problems[0]).toMatchObject({ table: "chain", id: 3 })
    const dir = tempDir()
    writeFileSync(join(dir, "edited.jsonl"), edited)
    const out = importCommand({ ledger: join(dir, "b.sqlite"), from: join(dir, "edited.jsonl") })
    expect(out.exitCode).toBe(1)
    expect(out.text).toMatch(/refusing to import .* record 3 .*does not match its hash.*nothing was written/)
    const b = LedgerStore.open(join(dir, "b.sqlite"))
    expect(b.recordCount()).toBe(0)
    b.close()
    a.close()
  })

  it("CSV has one quoted-correctly row per metric; BMF aggregates seeds per cell and length", () => {
    const a = seeded(tempLedgerPath())
    const csv = exportCsv(a).trim().split("\n")
    expect(csv[0]).toBe("run_id,suite,git_commit,job_id,job_key,job_name,seed,status,metric,value,unit,better,length,step")
    expect(csv).toHaveLength(1 + 7)
    const bmf = exportBmf(a)
    expect(bmf["s/rope/tiny@64"].loss).toEqual({ value: expect.closeTo(3.069, 12), lower_value: 3.064, upper_value: 3.074 })
    expect(bmf["s/fope/tiny"].tokens_per_second.value).toBe(1234.5)
    const dir = tempDir()
    const out = exportCommand({ ledger: a.file, format: "bmf", out: join(dir, "bmf.json") })
    expect(out.exitCode).toBe(0)
    expect(JSON.parse(readFileSync(join(dir, "bmf.json"), "utf8"))).toEqual(bmf)
    a.close()
  })
})

describe("merge", () => {
  const cells = [
    { cell: "s/rope/tiny", seed: 1 },
    { cell: "s/rope/tiny", seed: 2 },
    { cell: "s/fope/tiny", seed: 1 },
    { cell: "s/fope/tiny", seed: 2 }
  ]
  const writeJobs = (store: LedgerStore, which: ReadonlyArray<{ cell: string; seed: number }>) => {
    const run = store.beginRun(runInfo())
    for (const c of which) {
      const job = store.startJob({
        runId: run.id,
        key: `${c.cell}|${c.seed}`,
        name: `${c.cell}/seed${c.seed}`,
        config: { c },
        seed: c.seed
      })
      store.completeJob(job.id, { metrics: lossAt([64, 128], (l) => c.seed + l / 1000) })
    }
    store.finishRun(run.id)
  }
  const jobSet = (store: LedgerStore) =>
    store
      .jobs({ status: "done" })
      .map((j) => ({ key: j.key, name: j.name, metrics: store.metrics(j.id).map((m) => [m.name, m.length, m.value]) }))
      .sort((x, y) => x.key.localeCompare(y.key))

  it("merging two shard ledgers gives the single-machine job set, de-duplicated by key, verified", () => {
    const single = LedgerStore.open(tempLedgerPath("single.sqlite"))
    writeJobs(single, cells)
    const shard1 = LedgerStore.open(tempLedgerPath("shard1.sqlite"))
    const shard2 = LedgerStore.open(tempLedgerPath("shard2.sqlite"))
    writeJobs(
      shard1,
      cells.filter((_, i) => i % 2 === 0)
    )
    writeJobs(
      shard2,
      cells.filter((_, i) => i % 2 === 1)
    )
    writeJobs(shard2, [cells[0]]) // a duplicate of shard 1's first job (e.g. a rerun)
    const target = LedgerStore.open(tempLedgerPath("merged.sqlite"))
    const report = mergeLedgers(target, [shard1, shard2])
    expect(report.jobsAdded).toBe(4)
    expect(report.sources[1].duplicateJobsSkipped).toBe(1)
    expect(jobSet(target)).toEqual(jobSet(single))
    expect(target.verify().ok).toBe(true)
    // merging again adds nothing
    expect(mergeLedgers(target, [shard1, shard2]).jobsAdded).toBe(0)
    expect(target.verify().ok).toBe(true)
    ;[single, shard1, shard2, target].forEach((s) => s.close())
  })

  it("a tampered shard is refused, naming the file, and the target is untouched", () => {
    const shard = LedgerStore.open(tempLedgerPath("shard.sqlite"))
    writeJobs(shard, cells)
    shard.database.prepare("UPDATE metrics SET value = 0 WHERE id = 1").run()
    shard.close()
    const targetPath = tempLedgerPath("target.sqlite")
    const out = mergeCommand({ target: targetPath, sources: [shard.file] })
    expect(out.exitCode).toBe(1)
    expect(out.text).toContain(`source ${shard.file} fails verification at metrics 1`)
    const target = LedgerStore.open(targetPath)
    expect(target.recordCount()).toBe(0)
    target.close()
  })
})
