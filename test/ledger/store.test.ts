import { writeFileSync } from "node:fs"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { canonicalJson, chainHash, GENESIS_HASH, sha256Hex } from "../../ledger/canonical.js"
import { CanonicalJsonError, type LedgerError } from "../../ledger/errors.js"
import { LATEST_SCHEMA_VERSION } from "../../ledger/migrations.js"
import { LedgerStore } from "../../ledger/store.js"
import { verifyCommand } from "../../ledger/commands.js"
import { lossAt, runInfo, tempLedgerPath, writeRun } from "./helpers.js"

const openErr = (path: string): LedgerError => {
  try {
    LedgerStore.open(path).close()
  } catch (e) {
    return e as LedgerError
  }
  throw new Error("expected LedgerStore.open to throw")
}

describe("canonical JSON", () => {
  it("sorts keys, drops undefined members, writes shortest round-trip numbers", () => {
    expect(canonicalJson({ b: 1, a: [0.1, 1e-7, -0, 1e21], c: undefined, d: { z: null, y: "é" } })).toBe(
      '{"a":[0.1,1e-7,0,1e+21],"b":1,"d":{"y":"é","z":null}}'
    )
    const x = 0.1 + 0.2
    expect(JSON.parse(canonicalJson(x))).toBe(x)
  })
  it("rejects NaN and Infinity naming the path", () => {
    expect(() => canonicalJson({ metrics: [{ value: NaN }] })).toThrow(CanonicalJsonError)
    expect(() => canonicalJson({ metrics: [{ value: Infinity }] })).toThrow(/\$\.metrics\[0\]\.value/)
    expect(() => canonicalJson([undefined])).toThrow(/undefined inside an array/)
    expect(() => canonicalJson(new Date(0))).toThrow(/Date instance/)
  })
  it("sha256 and the chain hash are what they claim", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    expect(chainHash(GENESIS_HASH, { a: 1 })).toBe(sha256Hex(GENESIS_HASH + '{"a":1}'))
  })
})

describe("LedgerStore", () => {
  it("records a run and a job atomically and verifies", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const run = store.beginRun(runInfo())
    const job = store.startJob({ runId: run.id, key: "k", name: "s/rope/tiny/seed1", config: { lr: 1e-3 }, seed: 1 })
    expect(job.status).toBe("running")
    expect(store.findDoneJob("k")).toBeUndefined()
    const done = store.completeJob(job.id, {
      metrics: lossAt([64, 128], (l) => l / 100),
      artifacts: [{ path: "ckpt/w.safetensors", sha256: "ab".repeat(32), kind: "checkpoint" }],
      timings: { train: 1.5 },
      reproducibility: { mode: "tolerance", tolerance: 1e-4 }
    })
    expect(done.status).toBe("done")
    expect(done.reproducibility).toEqual({ mode: "tolerance", tolerance: 1e-4 })
    expect(store.findDoneJob("k")?.id).toBe(job.id)
    expect(store.metrics(job.id).map((m) => [m.length, m.value])).toEqual([
      [64, 0.64],
      [128, 1.28]
    ])
    expect(store.artifacts(job.id)[0].kind).toBe("checkpoint")
    store.finishRun(run.id)
    const report = store.verify()
    expect(report).toMatchObject({ ok: true, records: 4, problems: [] })
    expect(store.database.pragma("journal_mode", { simple: true })).toBe("wal")
    expect(store.database.pragma("foreign_keys", { simple: true })).toBe(1)
    expect(store.database.pragma("busy_timeout", { simple: true })).toBe(10_000)
    store.close()
  })

  it("refuses invalid transitions and non-finite metrics without writing anything", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const run = store.beginRun(runInfo())
    const job = store.startJob({ runId: run.id, key: "k", name: "n", config: {}, seed: 0 })
    expect(() => store.completeJob(job.id, { metrics: [{ name: "loss", value: NaN, unit: "nats", better: "lower" }] })).toThrow(
      /not a finite number.*failJob/
    )
    store.failJob(job.id, { error: "loss became NaN", step: 17 })
    expect(() => store.completeJob(job.id, { metrics: [] })).toThrow(/it is 'failed'/)
    expect(() => store.startJob({ runId: "nope", key: "k", name: "n", config: {}, seed: 0 })).toThrow(/run nope is not in ledger/)
    expect(store.job(job.id)).toMatchObject({ status: "failed", error: "loss became NaN", failureStep: 17 })
    expect(store.recordCount()).toBe(3)
    expect(store.verify().ok).toBe(true)
    store.close()
  })

  it("interrupts and resumes a job, and certificates are chained", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const run = store.beginRun(runInfo())
    const job = store.startJob({ runId: run.id, key: "k", name: "n", config: {}, seed: 0 })
    store.interruptJob(job.id, { step: 40, checkpoint: "ckpt/40" })
    expect(store.findResumableJob("k")).toMatchObject({ id: job.id, checkpoint: "ckpt/40", failureStep: 40 })
    expect(store.resumeJob(job.id).status).toBe("running")
    store.completeJob(job.id, { metrics: lossAt([64], () => 2), reproducibility: { mode: "bitwise" } })
    const cert = store.recordCertificate({
      jobId: job.id,
      mode: "bitwise",
      tolerance: null,
      verdict: "certified",
      maxAbsDiff: 0,
      compared: 1
    })
    expect(store.certificates(job.id)).toEqual([cert])
    expect(store.verify().ok).toBe(true)
    store.close()
  })

  it("marks jobs left running by a dead process as stale, and leaves live ones alone", () => {
    const path = tempLedgerPath()
    const store = LedgerStore.open(path)
    const run = store.beginRun(runInfo())
    const mine = store.startJob({ runId: run.id, key: "live", name: "n", config: {}, seed: 0 })
    const dead = store.startJob({ runId: run.id, key: "dead", name: "n", config: {}, seed: 1 })
    store.close()
    // a pid above pid_max cannot belong to a live process (the chain then disagrees with the row: that
    // UPDATE is test scaffolding; the real dead-process path is covered by the SIGKILL test)
    const s2 = LedgerStore.open(path)
    s2.database.prepare("UPDATE jobs SET pid = 2147483646 WHERE id = ?").run(dead.id)
    expect(s2.markStaleJobs()).toBe(1)
    expect(s2.job(dead.id)?.status).toBe("interrupted")
    expect(s2.job(dead.id)?.error).toMatch(/^stale/)
    expect(s2.job(mine.id)?.status).toBe("running")
    s2.close()
  })
})

describe("verify detects edits behind the harness's back", () => {
  const fixture = () => {
    const path = tempLedgerPath()
    const store = LedgerStore.open(path)
    writeRun(store, [
      { cell: "s/rope/tiny", seed: 1, metrics: lossAt([64, 128, 256], (l) => 3 + l / 1000) },
      { cell: "s/fope/tiny", seed: 1, metrics: lossAt([64, 128, 256], (l) => 2.9 + l / 1000) }
    ])
    expect(store.verify().ok).toBe(true)
    return store
  }

  it("a metric value changed with UPDATE: names the metrics row", () => {
    const store = fixture()
    store.database.prepare("UPDATE metrics SET value = 2.5 WHERE id = 4").run()
    const r = store.verify()
    expect(r.ok).toBe(false)
    expect(r.firstBad).toMatchObject({ table: "metrics", id: 4 })
    expect(r.firstBad!.reason).toMatch(/value is 2.5 but the chain records 2.964/)
    store.close()
  })

  it("a chain record's payload edited: names the record", () => {
    const store = fixture()
    const row = store.database.prepare("SELECT data FROM chain WHERE seq = 5").get() as { data: string }
    store.database.prepare("UPDATE chain SET data = ? WHERE seq = 5").run(row.data.replace('"value":2.964', '"value":2.5'))
    const r = store.verify()
    expect(r.firstBad).toMatchObject({ table: "chain", id: 5 })
    expect(r.firstBad!.reason).toMatch(/does not match its hash/)
    store.close()
  })

  it("a deleted metric row and a deleted chain record", () => {
    const store = fixture()
    store.database.prepare("DELETE FROM metrics WHERE id = 2").run()
    expect(store.verify().firstBad).toMatchObject({ table: "metrics", id: 2, reason: expect.stringMatching(/missing/) })
    store.database.pragma("foreign_keys = OFF")
    store.database.prepare("DELETE FROM chain WHERE seq = 3").run()
    const r = store.verify()
    expect(r.firstBad).toMatchObject({ table: "chain", id: 3, reason: expect.stringMatching(/missing/) })
    store.close()
  })

  it("reordered rows (swapped ids) in a table and in the chain", () => {
    const store = fixture()
    store.database.exec(
      "UPDATE metrics SET id = -1 WHERE id = 1; UPDATE metrics SET id = 1 WHERE id = 2; UPDATE metrics SET id = 2 WHERE id = -1"
    )
    expect(store.verify().firstBad).toMatchObject({ table: "metrics", id: 1 })
    const s2 = fixture()
    s2.database.exec(
      "UPDATE chain SET seq = -1 WHERE seq = 2; UPDATE chain SET seq = 2 WHERE seq = 3; UPDATE chain SET seq = 3 WHERE seq = -1"
    )
    const r = s2.verify()
    expect(r.firstBad).toMatchObject({ table: "chain", id: 2 })
    store.close()
    s2.close()
  })

  it("verifyCommand exits 1 naming the record, 0 on an intact ledger", () => {
    const store = fixture()
    const path = store.file
    store.close()
    expect(verifyCommand(path).exitCode).toBe(0)
    const raw = new Database(path)
    raw.prepare("UPDATE jobs SET seed = 99").run()
    raw.close()
    const out = verifyCommand(path)
    expect(out.exitCode).toBe(1)
    expect(out.text).toMatch(/TAMPERED: .*first bad record: jobs [0-9a-f-]{36}: column seed is 99/)
  })
})

describe("opening files that are not (current) ledgers", () => {
  it("a file that is not a database: clear error naming the file", () => {
    const path = tempLedgerPath("notes.txt")
    writeFileSync(path, "these are my notes, not a database\n")
    const e = openErr(path)
    expect(e.code).toBe("corrupt")
    expect(e.message).toContain(path)
    expect(e.message).toMatch(/is not a SQLite database .*point --ledger at a fope-harness ledger/)
    expect(verifyCommand(path)).toMatchObject({ exitCode: 2 })
  })
  it("a SQLite database of another application", () => {
    const path = tempLedgerPath("other.sqlite")
    const raw = new Database(path)
    raw.exec("CREATE TABLE t (x)")
    raw.close()
    expect(openErr(path).message).toMatch(/is a SQLite database but not a fope-harness ledger/)
  })
  it("a ledger from a newer harness", () => {
    const path = tempLedgerPath()
    LedgerStore.open(path).close()
    const raw = new Database(path)
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`)
    raw.close()
    const e = openErr(path)
    expect(e.code).toBe("schema-too-new")
    expect(e.message).toMatch(/schema version 2, but this harness knows versions up to 1.*Upgrade the harness/)
  })
  it("disk full (page limit reached): clear error, nothing half-written", () => {
    const store = LedgerStore.open(tempLedgerPath())
    const run = store.beginRun(runInfo())
    const job = store.startJob({ runId: run.id, key: "k", name: "n", config: {}, seed: 0 })
    const pages = store.database.pragma("page_count", { simple: true }) as number
    store.database.pragma(`max_page_count = ${pages}`)
    const many = Array.from({ length: 5000 }, (_, i) => ({ name: `m${i}`, value: i, unit: "x", better: "none" as const }))
    let error: LedgerError | undefined
    try {
      store.completeJob(job.id, { metrics: many })
    } catch (e) {
      error = e as LedgerError
    }
    expect(error?.code).toBe("disk-full")
    expect(error?.message).toMatch(/disk is full.*nothing was written.*Free space/)
    expect(store.metrics(job.id)).toHaveLength(0)
    expect(store.job(job.id)?.status).toBe("running")
    expect(store.recordCount()).toBe(2)
    store.database.pragma("max_page_count = 1073741823")
    expect(store.verify().ok).toBe(true)
    store.close()
  })
})
