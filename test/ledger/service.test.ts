import { writeFileSync } from "node:fs"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { Ledger } from "../../ledger/service.js"
import type { LedgerStore } from "../../ledger/store.js"
import { lossAt, runInfo, tempLedgerPath } from "./helpers.js"

describe("Ledger service", () => {
  it("runs a job through the Effect API and closes the database when the scope ends", async () => {
    const path = tempLedgerPath()
    let captured: LedgerStore | undefined
    const program = Effect.gen(function* () {
      const ledger = yield* Ledger
      captured = ledger.store
      const run = yield* ledger.beginRun(runInfo())
      const job = yield* ledger.startJob({ runId: run.id, key: "k", name: "s/fope/tiny/seed1", config: {}, seed: 1 })
      yield* ledger.completeJob(job.id, { metrics: lossAt([64], () => 3) })
      yield* ledger.finishRun(run.id)
      const found = yield* ledger.findDoneJob("k")
      return { found, report: yield* ledger.assertIntact() }
    })
    const { found, report } = await Effect.runPromise(Effect.provide(program, Ledger.layer(path)))
    expect(found?.status).toBe("done")
    expect(report.records).toBe(4)
    expect(captured!.database.open).toBe(false)
  })

  it("maps store errors to tagged errors", async () => {
    const notDb = tempLedgerPath("notes.txt")
    writeFileSync(notDb, "plain text")
    const useLedger = Effect.gen(function* () {
      yield* Ledger
    })
    const exit = await Effect.runPromiseExit(Effect.provide(useLedger, Ledger.layer(notDb)))
    expect(Exit.isFailure(exit)).toBe(true)
    const err = await Effect.runPromise(Effect.flip(Effect.provide(useLedger, Ledger.layer(notDb))))
    expect(err._tag).toBe("LedgerCorrupt")
    expect(err.message).toContain(notDb)

    const path = tempLedgerPath()
    const tampered = Effect.gen(function* () {
      const ledger = yield* Ledger
      const run = yield* ledger.beginRun(runInfo())
      ledger.store.database.prepare("UPDATE runs SET suite = 'other' WHERE id = ?").run(run.id)
      return yield* ledger.assertIntact()
    })
    const e2 = await Effect.runPromise(Effect.flip(Effect.provide(tampered, Ledger.layer(path))))
    expect(e2._tag).toBe("LedgerTampered")
    expect(e2.message).toMatch(/fails verification at runs .*column suite/)

    const invalid = Effect.gen(function* () {
      const ledger = yield* Ledger
      return yield* ledger.failJob("no-such-job", { error: "x" })
    })
    const e3 = await Effect.runPromise(Effect.flip(Effect.provide(invalid, Ledger.layer(path))))
    expect(e3._tag).toBe("LedgerInvalid")
  })
})
