/**
 * Verify and the other read-only commands: they never create, migrate or write a file; they refuse what is not a
 * ledger with exit 2; verify sees a damaged file (SQLite's integrity check) and a schema the migrations did not make.
 */
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import Database from "better-sqlite3"
import { describe, expect, it } from "vitest"
import { checkCommand, diffCommand, exportCommand, verifyCommand } from "../../ledger/commands.js"
import { LedgerStore } from "../../ledger/store.js"
import { runInfo, tempDir, writeRealisticLedger } from "./helpers.js"

const emptySqliteFile = (path: string): string => {
  const raw = new Database(path)
  raw.pragma("user_version = 0") // forces SQLite to write its header: a valid, empty database
  raw.exec("CREATE TABLE x (a); DROP TABLE x")
  raw.close()
  return path
}

const readers = (path: string, other: string) =>
  [
    ["verify", () => verifyCommand(path)],
    ["export", () => exportCommand({ ledger: path, format: "jsonl" })],
    ["diff", () => diffCommand({ a: path, b: other })],
    ["check", () => checkCommand({ baseline: other, candidate: path })]
  ] as const

describe("read-only commands on files that are not ledgers", () => {
  const cases: ReadonlyArray<[string, (path: string) => void, RegExp]> = [
    ["a 0-byte file", (p) => writeFileSync(p, ""), /is empty \(0 bytes\), not a fope-harness ledger; it was left as it was/],
    [
      "an empty SQLite database",
      (p) => emptySqliteFile(p),
      /is an empty SQLite database .*not a fope-harness ledger; it was left as it was/
    ],
    ["a text file", (p) => writeFileSync(p, "not a database at all\n".repeat(50)), /is not a SQLite database .*so not a ledger/],
    [
      "a SQLite database of another application",
      (p) => {
        const raw = new Database(p)
        raw.exec("CREATE TABLE notes (body TEXT)")
        raw.close()
      },
      /is a SQLite database but not a fope-harness ledger/
    ]
  ]
  for (const [what, make, message] of cases) {
    it(`${what}: exit 2 saying so, the file byte-identical`, () => {
      const dir = tempDir()
      const path = join(dir, "suspect.db")
      make(path)
      const other = writeRealisticLedger(join(dir, "real.db"))
      const before = readFileSync(path)
      for (const [name, command] of readers(path, other)) {
        const out = command()
        expect(out.exitCode, name).toBe(2)
        expect(out.text, name).toMatch(message)
        expect(readFileSync(path).equals(before), `${name} left the file as it was`).toBe(true)
      }
    })
  }

  it("a missing file: a clear error, and no file is created", () => {
    const dir = tempDir()
    const path = join(dir, "missing.db")
    const other = writeRealisticLedger(join(dir, "real.db"))
    for (const [name, command] of readers(path, other)) {
      const out = command()
      expect(out.exitCode, name).toBe(2)
      expect(out.text, name).toMatch(/missing\.db|"[^"]*missing\.db" is not a ledger file/)
      expect(existsSync(path), name).toBe(false)
    }
    expect(verifyCommand(path).text).toMatch(/does not exist: check the path/)
  })

  it("an intact ledger still verifies, read-only, and is left byte-identical", () => {
    const path = writeRealisticLedger()
    const before = readFileSync(path)
    const out = verifyCommand(path)
    expect(out.text).toMatch(/^ok: .*: 32 records, file, schema, chain and tables intact/)
    expect(out.exitCode).toBe(0)
    expect(readFileSync(path).equals(before)).toBe(true)
  })
})

describe("verify: a damaged file", () => {
  it("2 KB overwritten inside the chain's unique index: DAMAGED, exit 1, before any record is trusted", () => {
    const original = writeRealisticLedger()
    const path = join(tempDir(), "damaged.db")
    copyFileSync(original, path)
    const raw = new Database(path, { readonly: true })
    const pageSize = raw.pragma("page_size", { simple: true }) as number
    const { rootpage } = raw.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_chain_1'").get() as {
      rootpage: number
    }
    raw.close()
    const fd = openSync(path, "r+")
    try {
      // the last 2 KB of the page: SQLite fills a page's cells (here the hashes) from its end
      writeSync(fd, Buffer.alloc(2048, 0x5a), 0, 2048, rootpage * pageSize - 2048)
    } finally {
      closeSync(fd)
    }
    const out = verifyCommand(path)
    expect(out.exitCode).toBe(1)
    expect(out.text).toMatch(
      /^DAMAGED: .*sqlite integrity_check: the database file is damaged \(SQLite integrity_check: (Tree|row|Page|On tree)/
    )
    expect(out.text).toMatch(/missing from index sqlite_autoindex_chain_1/)
  })
})

describe("verify: the schema against the migrations", () => {
  const tamperedSchema = (sql: string): string => {
    const path = writeRealisticLedger()
    const raw = new Database(path)
    raw.exec(sql)
    raw.close()
    return path
  }
  const cases: ReadonlyArray<[string, string, RegExp]> = [
    [
      "a column added with a default",
      "ALTER TABLE jobs ADD COLUMN note TEXT DEFAULT 'forged'",
      /SCHEMA CHANGED: .*schema jobs: table jobs has a column "note TEXT DEFAULT 'forged'" that the migrations do not create/
    ],
    [
      "a trigger on metrics",
      "CREATE TRIGGER shave AFTER INSERT ON metrics BEGIN UPDATE metrics SET value = value * 0.9 WHERE id = NEW.id; END",
      /SCHEMA CHANGED: .*schema shave: trigger shave on metrics is not part of the ledger's schema \(a trigger can rewrite rows/
    ],
    ["a view", "CREATE VIEW best AS SELECT * FROM metrics", /view best on best is not part of the ledger's schema/],
    ["an index dropped", "DROP INDEX jobs_by_status", /index jobs_by_status on jobs is missing/],
    [
      "an index redefined",
      "DROP INDEX jobs_by_run; CREATE INDEX jobs_by_run ON jobs(seed)",
      /index jobs_by_run on jobs is defined as "CREATE INDEX jobs_by_run ON jobs\(seed\)"/
    ],
    [
      "a schema_version description edited",
      "UPDATE schema_version SET description = 'nothing to see'",
      /SCHEMA CHANGED: .*schema_version 1: migration 1 is recorded as "nothing to see"/
    ],
    [
      "a schema_version row added",
      "INSERT INTO schema_version VALUES (7, 'forged', '2026-01-01T00:00:00.000Z')",
      /schema_version 7: schema_version holds version 7 \("forged"\), which no migration creates/
    ],
    [
      "a schema_version row deleted",
      "DELETE FROM schema_version",
      /migration 1 \("chain log, runs, jobs, metrics, artifacts, certificates"\) is not in the schema_version history/
    ],
    [
      "applied_at edited",
      "UPDATE schema_version SET applied_at = 'yesterday'",
      /migration 1 has applied_at "yesterday", not an ISO 8601 instant/
    ]
  ]
  for (const [what, sql, message] of cases) {
    it(`${what}: exit 1 naming it`, () => {
      const out = verifyCommand(tamperedSchema(sql))
      expect(out.exitCode).toBe(1)
      expect(out.text).toMatch(message)
    })
  }

  it("a schema change alongside a forged value: both are named", () => {
    const path = tamperedSchema("ALTER TABLE jobs ADD COLUMN note TEXT DEFAULT 'forged'; UPDATE jobs SET seed = 42 WHERE seed = 1")
    const out = verifyCommand(path)
    expect(out.text).toMatch(/column "note TEXT/)
    expect(out.text).toMatch(/column seed is 42 but the chain records 1/)
  })

  it("the store itself still writes to a ledger whose schema verify accepts", () => {
    const path = writeRealisticLedger()
    const store = LedgerStore.open(path)
    store.finishRun(store.beginRun(runInfo({ suite: "later" })).id)
    expect(store.verify().ok).toBe(true)
    store.close()
  })
})
