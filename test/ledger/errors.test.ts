/** The ledger's errors are tagged: each keeps its tag through the store, the Effect service and the commands. */
import { writeFileSync } from "node:fs"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { canonicalJson } from "../../ledger/canonical.js"
import { verifyCommand } from "../../ledger/commands.js"
import {
  CanonicalJsonError,
  isLedgerError,
  LedgerBusy,
  LedgerCorrupt,
  LedgerDiskFull,
  ledgerError,
  type LedgerError,
  type LedgerErrorCode,
  ledgerExitCode,
  LedgerInvalid,
  LedgerSchemaTooNew,
  translateSqliteError
} from "../../ledger/errors.js"
import { LATEST_SCHEMA_VERSION } from "../../ledger/migrations.js"
import { attempt, Ledger, makeLedger } from "../../ledger/service.js"
import { LedgerStore } from "../../ledger/store.js"
import { runInfo, tempLedgerPath } from "./helpers.js"

/** Which handler of a catchTags over every ledger tag caught the failure. */
const caughtBy = <A>(effect: Effect.Effect<A, LedgerError>): Promise<string> =>
  Effect.runPromise(
    effect.pipe(
      Effect.as("none"),
      Effect.catchTags({
        LedgerCorrupt: (e) => Effect.succeed(`LedgerCorrupt:${e.code}`),
        LedgerTampered: (e) => Effect.succeed(`LedgerTampered:${e.code}`),
        LedgerBusy: (e) => Effect.succeed(`LedgerBusy:${e.code}`),
        LedgerDiskFull: (e) => Effect.succeed(`LedgerDiskFull:${e.code}`),
        LedgerSchemaTooNew: (e) => Effect.succeed(`LedgerSchemaTooNew:${e.code}`),
        LedgerInvalid: (e) => Effect.succeed(`LedgerInvalid:${e.code}`)
      })
    )
  )

describe("ledger errors", () => {
  it("one class per code, each with its tag, file, message and exit code", async () => {
    const expected: Record<LedgerErrorCode, readonly [string, number]> = {
      corrupt: ["LedgerCorrupt", 2],
      tampered: ["LedgerTampered", 1],
      busy: ["LedgerBusy", 2],
      "disk-full": ["LedgerDiskFull", 2],
      "schema-too-new": ["LedgerSchemaTooNew", 2],
      invalid: ["LedgerInvalid", 2]
    }
    for (const [code, [tag, exitCode]] of Object.entries(expected) as Array<[LedgerErrorCode, readonly [string, number]]>) {
      const e = ledgerError(code, "x.db", `about x.db (${code})`)
      expect(e._tag).toBe(tag)
      expect(e.code).toBe(code)
      expect(e.file).toBe("x.db")
      expect(e.message).toBe(`about x.db (${code})`)
      expect(e).toBeInstanceOf(Error)
      expect(isLedgerError(e)).toBe(true)
      expect(ledgerExitCode(e)).toBe(exitCode)
      expect(await caughtBy(Effect.fail(e))).toBe(`${tag}:${code}`)
    }
    expect(isLedgerError(new Error("plain"))).toBe(false)
    expect(isLedgerError({ _tag: "LedgerBusy", message: "not an error instance" })).toBe(false)
  })

  it("SQLite's error codes become the tagged errors, with the SqliteError as the cause", () => {
    const sqlite = (code: string) => Object.assign(new Error(code), { code })
    const busy = translateSqliteError(sqlite("SQLITE_BUSY"), "a.db")
    expect(busy).toBeInstanceOf(LedgerBusy)
    expect((busy as LedgerBusy).cause).toMatchObject({ code: "SQLITE_BUSY" })
    expect(translateSqliteError(sqlite("SQLITE_FULL"), "a.db")).toBeInstanceOf(LedgerDiskFull)
    expect(translateSqliteError(sqlite("SQLITE_NOTADB"), "a.db")).toBeInstanceOf(LedgerCorrupt)
    const other = sqlite("SQLITE_MISMATCH")
    expect(translateSqliteError(other, "a.db")).toBe(other)
  })

  it("the store throws them, and the service fails with the same tags", async () => {
    const notDb = tempLedgerPath("notes.txt")
    writeFileSync(notDb, "plain text")
    expect(() => LedgerStore.open(notDb)).toThrow(LedgerCorrupt)
    expect(await caughtBy(attempt(() => LedgerStore.open(notDb)))).toBe("LedgerCorrupt:corrupt")
    const useLedger = Effect.gen(function* () {
      yield* Ledger
    })
    expect(await caughtBy(Effect.provide(useLedger, Ledger.layer(notDb)))).toBe("LedgerCorrupt:corrupt")

    const newer = tempLedgerPath()
    LedgerStore.open(newer).close()
    const raw = new Database(newer)
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`)
    raw.close()
    expect(() => LedgerStore.open(newer)).toThrow(LedgerSchemaTooNew)
    expect(await caughtBy(attempt(() => LedgerStore.open(newer)))).toBe("LedgerSchemaTooNew:schema-too-new")

    const path = tempLedgerPath()
    const store = LedgerStore.open(path)
    expect(() => store.failJob("no-such-job", { error: "x" })).toThrow(LedgerInvalid)
    expect(await caughtBy(attempt(() => store.failJob("no-such-job", { error: "x" })))).toBe("LedgerInvalid:invalid")
    const run = store.beginRun(runInfo())
    store.database.prepare("UPDATE runs SET suite = 'other' WHERE id = ?").run(run.id)
    expect(await caughtBy(makeLedger(store).assertIntact())).toBe("LedgerTampered:tampered")
    store.close()
  })

  it("the commands keep the codes: exit 2 and the code in the JSON when a file is not a ledger", () => {
    const notDb = tempLedgerPath("notes.txt")
    writeFileSync(notDb, "plain text")
    const result = verifyCommand(notDb)
    expect(result.exitCode).toBe(2)
    expect(result.json).toMatchObject({ error: "corrupt", file: notDb })
  })

  it("canonical JSON's refusal is tagged and names the path", async () => {
    let thrown: unknown
    try {
      canonicalJson({ metrics: [{ value: NaN }] })
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(CanonicalJsonError)
    expect((thrown as CanonicalJsonError)._tag).toBe("CanonicalJsonError")
    expect((thrown as CanonicalJsonError).path).toBe("$.metrics[0].value")
    expect((thrown as CanonicalJsonError).message).toMatch(/^cannot canonicalise \$\.metrics\[0\]\.value: NaN is not a finite number/)
  })
})
