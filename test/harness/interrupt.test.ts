/**
 * The harness as a user runs it, in child processes: Ctrl-C (SIGINT) in the middle of a job checkpoints it and
 * marks it interrupted; the ledger still verifies; the next run resumes from the checkpoint and finishes with
 * the same numbers as an uninterrupted run. And --shard 1/2 + 2/2, merged, equal the unsharded job set.
 */
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { LedgerStore } from "../../ledger/store.js"
import { readTrainingTiming } from "../../models/checkpoint/checkpoint.js"
import { runHarness, scratch, tinySuite, writeSuite } from "./helpers.js"

const qualityMetrics = (ledger: string) => {
  const store = LedgerStore.open(ledger)
  try {
    return store.jobs({ status: "done" }).map(
      (j) =>
        [
          j.name,
          store
            .metrics(j.id)
            .filter((m) => !/seconds|per_s|rss/.test(m.name))
            .map((m) => `${m.name}|${m.length}|${m.step}|${m.value}`)
        ] as const
    )
  } finally {
    store.close()
  }
}

describe("interruption and resume (child processes)", () => {
  it("SIGINT mid-job: interrupted + checkpoint, ledger verifies, rerun resumes and matches an uninterrupted run", async () => {
    const dir = scratch()
    const suite = writeSuite(
      dir,
      tinySuite({
        name: "sigint",
        embeddings: ["rope"],
        training: { length: 16, steps: 40, batchSize: 2, learningRate: 0.003, warmupSteps: 4, checkpointEvery: 10 }
      })
    )
    const ledger = join(dir, "a.db")
    const args = ["run", suite, "--ledger", ledger, "--checkpoints", join(dir, "ckpt-a"), "--backend", "wasm", "--threads", "1"]
    let sent = false
    const first = await runHarness(args, {
      onLine: (line, child) => {
        const m = /step (\d+)\/40/.exec(line)
        if (!sent && m && Number(m[1]) >= 15) {
          sent = true
          child.kill("SIGINT")
        }
      }
    })
    expect(sent).toBe(true)
    expect(first.stderr).toMatch(/interrupted at step \d+; checkpoint saved/)
    const store = LedgerStore.open(ledger)
    const [job] = store.jobs()
    expect(job!.status).toBe("interrupted")
    expect(store.metrics(job!.id)).toEqual([])
    expect(store.verify().ok).toBe(true)
    store.close()
    // the interrupted checkpoint carries the training time so far, for the resumed job's record
    const [checkpoint] = readdirSync(join(dir, "ckpt-a"))
    const before = readTrainingTiming(join(dir, "ckpt-a", checkpoint!))
    expect(before).toMatchObject({ sessions: 1 })
    expect(before!.trainSeconds).toBeGreaterThan(0)

    const second = await runHarness(args)
    expect(second.code).toBe(0)
    expect(second.stderr).toMatch(/resuming from the checkpoint at step (1[5-9]|[2-3]\d)\/40/)
    const after = LedgerStore.open(ledger)
    expect(after.jobs().map((j) => j.status)).toEqual(["done"])
    const timings = after.jobs()[0]!.timings as Record<string, number>
    expect(timings.sessions).toBe(2)
    expect(timings.train).toBeCloseTo(before!.trainSeconds + timings.trainThisSession!, 6)
    expect(after.verify().ok).toBe(true)
    after.close()

    const reference = join(dir, "b.db")
    const third = await runHarness([
      "run",
      suite,
      "--ledger",
      reference,
      "--checkpoints",
      join(dir, "ckpt-b"),
      "--backend",
      "wasm",
      "--threads",
      "1"
    ])
    expect(third.code).toBe(0)
    expect(qualityMetrics(ledger)).toEqual(qualityMetrics(reference))
  })

  it("--shard 1/2 and 2/2 on two ledgers, merged, and --jobs 2 on one ledger, give the unsharded run's job set", async () => {
    const dir = scratch()
    const suite = writeSuite(
      dir,
      tinySuite({
        name: "shards",
        embeddings: ["rope", "fope", "nope"],
        training: { length: 16, steps: 3, batchSize: 2, learningRate: 0.003, warmupSteps: 1 }
      })
    )
    const common = ["--checkpoints", join(dir, "ckpt"), "--backend", "wasm", "--threads", "1"]
    const r1 = await runHarness(["run", suite, "--shard", "1/2", "--ledger", join(dir, "s1.db"), ...common])
    const r2 = await runHarness(["run", suite, "--shard", "2/2", "--ledger", join(dir, "s2.db"), ...common])
    const all = await runHarness([
      "run",
      suite,
      "--ledger",
      join(dir, "all.db"),
      "--checkpoints",
      join(dir, "ckpt-all"),
      "--backend",
      "wasm",
      "--threads",
      "1"
    ])
    expect([r1.code, r2.code, all.code]).toEqual([0, 0, 0])
    const merged = await runHarness(["ledger", "merge", join(dir, "merged.db"), join(dir, "s1.db"), join(dir, "s2.db")])
    expect(merged.code).toBe(0)
    const keys = (file: string) => {
      const s = LedgerStore.open(file)
      try {
        return s
          .jobs({ status: "done" })
          .map((j) => j.key)
          .sort()
      } finally {
        s.close()
      }
    }
    expect(keys(join(dir, "s1.db")).length).toBe(2)
    expect(keys(join(dir, "s2.db")).length).toBe(1)
    expect(keys(join(dir, "merged.db"))).toEqual(keys(join(dir, "all.db")))
    const verify = await runHarness(["ledger", "verify", "--ledger", join(dir, "merged.db")])
    expect(verify.code).toBe(0)
    // --jobs 2: two worker processes on one ledger (WAL + busy timeout) give the same job set, and the chain holds
    const parallel = await runHarness([
      "run",
      suite,
      "--jobs",
      "2",
      "--ledger",
      join(dir, "parallel.db"),
      "--checkpoints",
      join(dir, "ckpt-par"),
      "--backend",
      "wasm"
    ])
    expect(parallel.code).toBe(0)
    expect(parallel.stdout).toMatch(/2\/2 workers finished cleanly/)
    expect(keys(join(dir, "parallel.db"))).toEqual(keys(join(dir, "all.db")))
    expect((await runHarness(["ledger", "verify", "--ledger", join(dir, "parallel.db")])).code).toBe(0)
  })
})
