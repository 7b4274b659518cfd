// Real processes against one ledger file. The children are plain `node` running fixtures/*.mjs, which
// import the TypeScript store through fixtures/register-ts.mjs (Node 20 cannot strip types; the hook uses
// rolldown's oxc transform, which vite already installs).
import { spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { tempLedgerPath } from "./helpers.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

const startChild = (script: string, args: ReadonlyArray<string>): ChildProcess =>
  spawn(process.execPath, ["--import", fixture("register-ts.mjs"), fixture(script), ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"]
  })

const collect = (child: ChildProcess) => {
  let out = ""
  let err = ""
  child.stdout!.on("data", (d) => (out += d))
  child.stderr!.on("data", (d) => (err += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal }))
  )
  return { out: () => out, err: () => err, exited }
}

const waitFor = (child: ChildProcess, text: string, stderr: () => string): Promise<string> =>
  new Promise((resolve, reject) => {
    let buffer = ""
    child.stdout!.on("data", (d) => {
      buffer += d
      const line = buffer.split("\n").find((l) => l.startsWith(text))
      if (line) resolve(line)
    })
    child.on("exit", (code) => reject(new Error(`child exited (${code}) before printing ${text}: ${stderr()}`)))
  })

describe("ledger across processes", () => {
  it("a process SIGKILLed in the middle of completing a job leaves no partial metrics; the job is found stale", async () => {
    const path = tempLedgerPath()
    const child = startChild("kill-mid-write.mjs", [path])
    const io = collect(child)
    const line = await waitFor(child, "MID-WRITE", io.err)
    const jobId = line.split(" ")[1]
    child.kill("SIGKILL")
    const exit = await io.exited
    expect(exit.signal).toBe("SIGKILL")
    expect(io.out()).not.toContain("COMMITTED")

    const store = LedgerStore.open(path)
    try {
      expect(store.metrics(jobId)).toHaveLength(0)
      expect((store.database.prepare("SELECT count(*) AS n FROM metrics").get() as { n: number }).n).toBe(0)
      expect(store.job(jobId)?.status).toBe("running")
      expect(store.recordCount()).toBe(2) // run.begin, job.start: the job.done record never committed
      expect(store.markStaleJobs()).toBe(1)
      expect(store.job(jobId)).toMatchObject({ status: "interrupted", error: expect.stringMatching(/^stale/) })
      expect(store.verify()).toMatchObject({ ok: true, records: 3 })
    } finally {
      store.close()
    }
  })

  it("two processes writing one ledger at once lose nothing and keep one valid chain", async () => {
    const path = tempLedgerPath()
    LedgerStore.open(path).close() // create the schema first so both children only append
    const jobs = 150
    const children = ["A", "B"].map((label) => {
      const child = startChild("writer.mjs", [path, label, String(jobs)])
      return { label, io: collect(child) }
    })
    const exits = await Promise.all(children.map((c) => c.io.exited))
    children.forEach((c, i) => {
      expect(exits[i].code, c.io.err()).toBe(0)
      expect(c.io.out()).toContain(`DONE ${c.label}`)
    })
    const store = LedgerStore.open(path)
    try {
      const done = store.jobs({ status: "done" })
      expect(done).toHaveLength(2 * jobs)
      expect(new Set(done.map((j) => j.key)).size).toBe(2 * jobs)
      expect((store.database.prepare("SELECT count(*) AS n FROM metrics").get() as { n: number }).n).toBe(2 * jobs * 3)
      expect(store.recordCount()).toBe(2 * (2 + 2 * jobs))
      expect(store.verify()).toMatchObject({ ok: true, records: 2 * (2 + 2 * jobs) })
    } finally {
      store.close()
    }
  })

  it("processes that open one NEW ledger at the same instant all get the same migrated ledger", async () => {
    // Each opener creates the file if needed and migrates it; the first migration (schema_version table,
    // tables, application_id) is one transaction, so another opener sees either no tables or a whole ledger,
    // never a half-made schema to refuse as "not a fope-harness ledger".
    for (let attempt = 0; attempt < 1; attempt++) {
      const path = tempLedgerPath()
      const startAt = Date.now() + 8000 // every child has loaded the store by then, even on a busy machine
      const children = ["A", "B", "C", "D"].map((label) => ({
        label,
        io: collect(startChild("writer.mjs", [path, label, "2", String(startAt)]))
      }))
      const exits = await Promise.all(children.map((c) => c.io.exited))
      children.forEach((c, i) => expect(exits[i].code, c.io.err()).toBe(0))
      const store = LedgerStore.open(path)
      try {
        expect(store.jobs({ status: "done" })).toHaveLength(8)
        expect(store.verify()).toMatchObject({ ok: true })
      } finally {
        store.close()
      }
    }
  }, 240_000)
})
