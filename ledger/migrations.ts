/**
 * The ledger's schema, built by numbered migrations. `PRAGMA user_version` holds the version reached and
 * `schema_version` keeps the history (when each step ran). A file whose version is higher than
 * LATEST_SCHEMA_VERSION was written by a newer harness and is refused (never downgraded in place).
 *
 * Design: `chain` is the append-only, hash-chained record log and the single source of truth. `runs`,
 * `jobs`, `metrics`, `artifacts` and `certificates` are projections of it, written in the same transaction
 * as the record they come from, and `verify` rebuilds them from the chain and compares row by row. So an
 * UPDATE or DELETE behind the harness's back, on the log or on a table, is detected.
 * JSON columns hold canonical JSON (canonical.ts), so they compare as text.
 */
import type Database from "better-sqlite3"

/** 'FOPE' as a big-endian int32: marks a SQLite file as a fope-harness ledger (PRAGMA application_id). */
export const LEDGER_APPLICATION_ID = 0x464f5045

export interface Migration {
  readonly version: number
  readonly description: string
  readonly sql: string
}

export const MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    description: "chain log, runs, jobs, metrics, artifacts, certificates",
    sql: `
      CREATE TABLE chain (
        seq        INTEGER PRIMARY KEY,
        kind       TEXT    NOT NULL,
        at         TEXT    NOT NULL,
        data       TEXT    NOT NULL,
        prev_hash  TEXT    NOT NULL,
        hash       TEXT    NOT NULL UNIQUE
      );
      CREATE TABLE runs (
        id              TEXT PRIMARY KEY,
        record_seq      INTEGER NOT NULL,
        suite           TEXT NOT NULL,
        started_at      TEXT NOT NULL,
        finished_at     TEXT,
        git_commit      TEXT,
        git_dirty_hash  TEXT,
        code_version    TEXT,
        environment     TEXT NOT NULL
      );
      CREATE TABLE jobs (
        id               TEXT PRIMARY KEY,
        run_id           TEXT NOT NULL REFERENCES runs(id),
        key              TEXT NOT NULL,
        suite            TEXT NOT NULL,
        name             TEXT NOT NULL,
        config           TEXT NOT NULL,
        seed             INTEGER NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
        started_at       TEXT NOT NULL,
        finished_at      TEXT,
        timings          TEXT,
        error            TEXT,
        failure_step     INTEGER,
        reproducibility  TEXT CHECK (reproducibility IN ('bitwise', 'tolerance')),
        tolerance        REAL,
        checkpoint       TEXT,
        pid              INTEGER NOT NULL,
        host             TEXT NOT NULL,
        last_seq         INTEGER NOT NULL
      );
      CREATE INDEX jobs_by_key ON jobs(key, status);
      CREATE INDEX jobs_by_run ON jobs(run_id);
      CREATE INDEX jobs_by_status ON jobs(status);
      CREATE TABLE metrics (
        id       INTEGER PRIMARY KEY,
        job_id   TEXT NOT NULL REFERENCES jobs(id),
        ordinal  INTEGER NOT NULL,
        name     TEXT NOT NULL,
        value    REAL NOT NULL,
        unit     TEXT NOT NULL,
        better   TEXT NOT NULL CHECK (better IN ('lower', 'higher', 'none')),
        length   INTEGER,
        step     INTEGER,
        UNIQUE (job_id, ordinal)
      );
      CREATE TABLE artifacts (
        id       INTEGER PRIMARY KEY,
        job_id   TEXT NOT NULL REFERENCES jobs(id),
        ordinal  INTEGER NOT NULL,
        path     TEXT NOT NULL,
        sha256   TEXT NOT NULL,
        kind     TEXT NOT NULL,
        UNIQUE (job_id, ordinal)
      );
      CREATE TABLE certificates (
        id            TEXT PRIMARY KEY,
        job_id        TEXT NOT NULL REFERENCES jobs(id),
        rerun_job_id  TEXT,
        created_at    TEXT NOT NULL,
        mode          TEXT NOT NULL CHECK (mode IN ('bitwise', 'tolerance')),
        tolerance     REAL,
        verdict       TEXT NOT NULL CHECK (verdict IN ('certified', 'failed')),
        max_abs_diff  REAL NOT NULL,
        compared      INTEGER NOT NULL,
        details       TEXT NOT NULL
      );
    `
  }
]

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version

/** The tables `verify` rebuilds from the chain and compares, with their primary key. */
export const PROJECTED_TABLES = [
  { table: "runs", key: "id" },
  { table: "jobs", key: "id" },
  { table: "metrics", key: "id" },
  { table: "artifacts", key: "id" },
  { table: "certificates", key: "id" }
] as const

export const schemaVersion = (db: Database.Database): number => db.pragma("user_version", { simple: true }) as number

/**
 * Applies the missing migrations, each in its own transaction. The caller holds no transaction; two
 * processes opening a fresh file at once are serialised by BEGIN IMMEDIATE and the re-read of the version.
 */
export const migrate = (db: Database.Database): void => {
  for (const migration of MIGRATIONS) {
    db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return
      // Inside the transaction: another process opening the same new file sees either no tables or a
      // migrated ledger with its application_id, never a lone schema_version table it would refuse.
      db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)`)
      db.exec(migration.sql)
      db.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.description,
        new Date().toISOString()
      )
      db.pragma(`application_id = ${LEDGER_APPLICATION_ID}`)
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
}
