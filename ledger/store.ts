/**
 * LedgerStore: the synchronous SQLite ledger (better-sqlite3). Every change is a record appended to the
 * hash chain (record hash = sha256(prev hash + canonical record)) and projected onto the tables in the same
 * BEGIN IMMEDIATE transaction, so:
 *   - a job's results (its metric batch, artifacts, timings) land atomically or not at all;
 *   - two processes appending at once are serialised by SQLite's write lock (WAL + busy_timeout), and each
 *     reads the previous hash inside its own write transaction, so the chain never forks;
 *   - a process killed mid-write leaves nothing (the uncommitted WAL frames are discarded on recovery);
 *     its job stays 'running' with its pid and host, and `markStaleJobs` finds it at the next start.
 */
import Database from "better-sqlite3"
import { randomUUID } from "node:crypto"
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs"
import { hostname } from "node:os"
import { canonicalJson, chainHash, chainHashOfText, GENESIS_HASH } from "./canonical.js"
import { ledgerError, ProjectionError, translateSqliteError } from "./errors.js"
import { LATEST_SCHEMA_VERSION, LEDGER_APPLICATION_ID, migrate, schemaVersion } from "./migrations.js"
import { Projector } from "./projection.js"
import type {
  ArtifactRecord,
  ArtifactRow,
  CertificateInput,
  CertificateRow,
  ChainRecord,
  CompleteJobInput,
  JobFilter,
  JobRow,
  JobStatus,
  MetricRecord,
  MetricRow,
  RecordKind,
  Reproducibility,
  RunInfo,
  RunRow,
  VerifyReport
} from "./types.js"
import { verifyDatabase } from "./verify.js"

export interface LedgerOpenOptions {
  /** ms to wait for another process's write lock before failing with "busy" (default 10 000) */
  readonly busyTimeoutMs?: number
  /** open without creating or migrating (verify, export, diff of a foreign file) */
  readonly readonly?: boolean
  /** testing hook: runs inside the write transaction, after the rows are written and before COMMIT */
  readonly beforeCommit?: (kind: RecordKind) => void
}

const SQLITE_HEADER = "SQLite format 3\0"

const nowIso = (): string => new Date().toISOString()

/** Refuses a file that exists but is not a SQLite database, before SQLite gets a chance to misread it. */
const assertSqliteFile = (file: string): void => {
  if (!existsSync(file) || statSync(file).size === 0) return
  const fd = openSync(file, "r")
  const head = Buffer.alloc(16)
  try {
    readSync(fd, head, 0, 16, 0)
  } finally {
    closeSync(fd)
  }
  if (head.toString("latin1") !== SQLITE_HEADER) {
    const shown = JSON.stringify(head.toString("latin1").replace(/[^\x20-\x7e]/g, "."))
    throw ledgerError(
      "corrupt",
      file,
      `${file} is not a SQLite database (it starts with ${shown}, not "SQLite format 3"), so not a ledger; ` +
        "it was left as it was: point --ledger at a fope-harness ledger file (a run creates one)"
    )
  }
}

/**
 * What a read-only open refuses before SQLite sees the file: a missing file (SQLite would create one on a
 * read-write open, and a reader must never create) and a 0-byte file (SQLite reads it as an empty database,
 * which a reader would report as "0 records, intact").
 */
const assertReadableLedgerFile = (file: string): void => {
  if (!existsSync(file)) {
    throw ledgerError("invalid", file, `ledger ${file} does not exist: check the path (a run creates the ledger; this command only reads)`)
  }
  if (!statSync(file).isFile()) throw ledgerError("invalid", file, `ledger ${file} is not a file: check the path`)
  if (statSync(file).size === 0) {
    throw ledgerError(
      "corrupt",
      file,
      `${file} is empty (0 bytes), not a fope-harness ledger; it was left as it was. ` +
        "Point --ledger at a ledger file (a run creates one), or delete the empty file"
    )
  }
  assertSqliteFile(file)
}

interface JobDbRow {
  id: string
  run_id: string
  key: string
  suite: string
  name: string
  config: string
  seed: number
  status: JobStatus
  started_at: string
  finished_at: string | null
  timings: string | null
  error: string | null
  failure_step: number | null
  reproducibility: "bitwise" | "tolerance" | null
  tolerance: number | null
  checkpoint: string | null
  pid: number
  host: string
}

const toJob = (r: JobDbRow): JobRow => ({
  id: r.id,
  runId: r.run_id,
  key: r.key,
  suite: r.suite,
  name: r.name,
  config: JSON.parse(r.config),
  seed: r.seed,
  status: r.status,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  timings: r.timings === null ? null : JSON.parse(r.timings),
  error: r.error,
  failureStep: r.failure_step,
  reproducibility:
    r.reproducibility === null
      ? null
      : r.reproducibility === "bitwise"
        ? { mode: "bitwise" }
        : { mode: "tolerance", tolerance: r.tolerance ?? 0 },
  checkpoint: r.checkpoint,
  pid: r.pid,
  host: r.host
})

interface RunDbRow {
  id: string
  suite: string
  started_at: string
  finished_at: string | null
  git_commit: string | null
  git_dirty_hash: string | null
  code_version: string | null
  environment: string
}

const toRun = (r: RunDbRow): RunRow => ({
  id: r.id,
  suite: r.suite,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  gitCommit: r.git_commit,
  gitDirtyHash: r.git_dirty_hash,
  codeVersion: r.code_version,
  environment: JSON.parse(r.environment)
})

const METRIC_COLUMNS = "id, job_id AS jobId, ordinal, name, value, unit, better, length, step"

const normaliseMetric = (m: MetricRecord, i: number, file: string): MetricRecord => {
  const where = `metric #${i} (${JSON.stringify(m?.name)})`
  if (typeof m?.name !== "string" || m.name.length === 0) {
    throw ledgerError("invalid", file, `${where}: name must be a non-empty string`)
  }
  if (typeof m.value !== "number" || !Number.isFinite(m.value)) {
    throw ledgerError(
      "invalid",
      file,
      `${where}: value ${m.value} is not a finite number; a diverged computation is recorded with failJob, not as a metric`
    )
  }
  if (m.better !== "lower" && m.better !== "higher" && m.better !== "none") {
    throw ledgerError("invalid", file, `${where}: better must be "lower", "higher" or "none", got ${JSON.stringify(m.better)}`)
  }
  const intOrNull = (v: number | null | undefined, field: string): number | null => {
    if (v === undefined || v === null) return null
    if (!Number.isInteger(v)) throw ledgerError("invalid", file, `${where}: ${field} must be an integer or null, got ${v}`)
    return v
  }
  return {
    name: m.name,
    value: m.value,
    unit: typeof m.unit === "string" ? m.unit : "",
    better: m.better,
    length: intOrNull(m.length, "length"),
    step: intOrNull(m.step, "step")
  }
}

/** Is process `pid` alive on this host? EPERM means it exists but belongs to someone else. */
const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

export class LedgerStore {
  private readonly projector: Projector
  private readonly lastRecord: Database.Statement
  private readonly insertRecord: Database.Statement
  private readonly immediate: (fn: () => unknown) => unknown
  private closed = false
  private readonly statements = new Map<string, Database.Statement>()

  /** A prepared statement, prepared once per connection (preparing dominated small reads). */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text)
    if (!st) {
      st = this.database.prepare(text)
      this.statements.set(text, st)
    }
    return st
  }

  private constructor(
    /** the underlying connection, for tests and advanced use; writes through it bypass the chain (verify will say so) */
    readonly database: Database.Database,
    readonly file: string,
    private readonly options: LedgerOpenOptions
  ) {
    this.projector = new Projector(database)
    this.lastRecord = database.prepare("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1")
    this.insertRecord = database.prepare("INSERT INTO chain (seq, kind, at, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)")
    this.immediate = database.transaction((fn: () => unknown) => fn()).immediate
  }

  /**
   * Opens (creating and migrating when needed) the ledger at `file`. Throws the ledger's tagged errors (errors.ts):
   * "corrupt" for a file that is not a SQLite database or not a ledger, "schema-too-new" for one written by
   * a newer harness, "busy" when another process holds it past the timeout. With `readonly` the file is never
   * created, migrated or written: a missing file is "invalid", an empty file or empty database "corrupt".
   */
  static open(file: string, options: LedgerOpenOptions = {}): LedgerStore {
    const db = LedgerStore.openDatabase(file, options)
    try {
      return new LedgerStore(db, file, options)
    } catch (e) {
      db.close()
      // the store prepares its statements against the tables: a renamed or dropped column fails here
      if ((e as { code?: unknown }).code === "SQLITE_ERROR") {
        throw ledgerError(
          "corrupt",
          file,
          `ledger ${file}: its tables are not the ledger's schema (${(e as Error).message}): they were changed behind the harness's back. ` +
            "harness ledger verify names what changed; restore the ledger from a JSON Lines export or a backup",
          { cause: e }
        )
      }
      throw translateSqliteError(e, file)
    }
  }

  /**
   * Verifies the ledger at `file` without building a store: a ledger whose tables were changed too much for the
   * store's statements to prepare still gets verify's full report (what changed in the schema, which rows differ).
   */
  static verifyFile(file: string, options: Pick<LedgerOpenOptions, "busyTimeoutMs"> = {}): VerifyReport {
    const db = LedgerStore.openDatabase(file, { ...options, readonly: true })
    try {
      return db.transaction(() => verifyDatabase(db, file)).deferred()
    } catch (e) {
      throw translateSqliteError(e, file)
    } finally {
      db.close()
    }
  }

  /** The checked connection `open` and `verifyFile` work on: a SQLite ledger of a schema this harness knows. */
  private static openDatabase(file: string, options: LedgerOpenOptions): Database.Database {
    if (options.readonly) assertReadableLedgerFile(file)
    else assertSqliteFile(file)
    let db: Database.Database | undefined
    try {
      db = new Database(file, {
        readonly: options.readonly ?? false,
        fileMustExist: options.readonly ?? false,
        timeout: options.busyTimeoutMs ?? 10_000
      })
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`)
      const version = schemaVersion(db)
      const appId = db.pragma("application_id", { simple: true }) as number
      const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n
      if (appId !== LEDGER_APPLICATION_ID && (tables > 0 || version > 0 || options.readonly)) {
        // a reader never turns an empty database into a ledger: it says what the file is and leaves it alone
        throw ledgerError(
          "corrupt",
          file,
          tables === 0 && version === 0
            ? `${file} is an empty SQLite database (no tables, no ledger application_id), not a fope-harness ledger; it was left as it was. ` +
                "Point --ledger at a ledger file (a run creates one)"
            : `${file} is a SQLite database but not a fope-harness ledger (application_id ${appId}, ${tables} tables): ` +
                "point --ledger at a ledger file, or at a new path to create one"
        )
      }
      if (version > LATEST_SCHEMA_VERSION) {
        throw ledgerError(
          "schema-too-new",
          file,
          `ledger ${file} has schema version ${version}, but this harness knows versions up to ${LATEST_SCHEMA_VERSION}: ` +
            "it was written by a newer fope-harness. Upgrade the harness (git pull && npm ci) or open it with the version that wrote it; do not write to it with this one"
        )
      }
      if (!options.readonly) {
        db.pragma("journal_mode = WAL")
        // NORMAL in WAL mode survives a killed process (committed transactions are in the WAL);
        // only an OS crash or power loss can lose the last commits, never corrupt the file.
        db.pragma("synchronous = NORMAL")
        db.pragma("foreign_keys = ON")
        migrate(db)
      } else if (version < LATEST_SCHEMA_VERSION) {
        throw ledgerError(
          "invalid",
          file,
          `ledger ${file} has schema version ${version} (current ${LATEST_SCHEMA_VERSION}); open it once read-write to migrate it`
        )
      }
      return db
    } catch (e) {
      db?.close()
      throw translateSqliteError(e, file)
    }
  }

  // ---------------------------------------------------------------- writing

  private write<T>(fn: () => T): T {
    if (this.closed) throw ledgerError("invalid", this.file, `ledger ${this.file} is closed`)
    try {
      return this.immediate(fn) as T
    } catch (e) {
      if (e instanceof ProjectionError) throw ledgerError("invalid", this.file, `ledger ${this.file}: ${e.message}`, { cause: e })
      throw translateSqliteError(e, this.file)
    }
  }

  /** Appends one record and its projection. Must run inside `write`. Returns the new record. */
  private appendInTransaction(kind: RecordKind, data: Record<string, unknown>, at: string = nowIso()): ChainRecord {
    const last = this.lastRecord.get() as { seq: number; hash: string } | undefined
    const seq = (last?.seq ?? 0) + 1
    const prevHash = last?.hash ?? GENESIS_HASH
    const dataJson = canonicalJson(data)
    const hash = chainHashOfText(prevHash, seq, kind, at, dataJson)
    this.insertRecord.run(seq, kind, at, dataJson, prevHash, hash)
    // project what was hashed (the parsed canonical text), not the caller's object
    const stored = JSON.parse(dataJson) as Record<string, unknown>
    this.projector.apply(seq, kind, at, stored)
    this.options.beforeCommit?.(kind)
    return { seq, kind, at, data: stored, prevHash, hash }
  }

  private append(kind: RecordKind, data: Record<string, unknown>, at?: string): ChainRecord {
    return this.write(() => this.appendInTransaction(kind, data, at))
  }

  beginRun(info: RunInfo): RunRow {
    const runId = randomUUID()
    this.append("run.begin", {
      runId,
      suite: info.suite,
      git: { commit: info.git.commit, dirtyHash: info.git.dirtyHash },
      codeVersion: info.codeVersion ?? null,
      environment: info.environment ?? null
    })
    return this.run(runId)!
  }

  finishRun(runId: string): RunRow {
    this.append("run.finish", { runId })
    return this.run(runId)!
  }

  startJob(input: { runId: string; key: string; name: string; config: unknown; seed: number; suite?: string }): JobRow {
    const jobId = randomUUID()
    this.write(() => {
      const run = this.run(input.runId)
      if (!run)
        throw ledgerError("invalid", this.file, `cannot start job "${input.name}": run ${input.runId} is not in ledger ${this.file}`)
      this.appendInTransaction("job.start", {
        jobId,
        runId: input.runId,
        key: input.key,
        suite: input.suite ?? run.suite,
        name: input.name,
        config: input.config ?? null,
        seed: input.seed,
        pid: process.pid,
        host: hostname()
      })
    })
    return this.job(jobId)!
  }

  /** Takes an interrupted job back to running (resume from its checkpoint); its record stays one job. */
  resumeJob(jobId: string): JobRow {
    this.append("job.resume", { jobId, pid: process.pid, host: hostname() })
    return this.job(jobId)!
  }

  /** The job's whole result in ONE transaction and ONE chained record: all of it or none of it. */
  completeJob(jobId: string, result: CompleteJobInput): JobRow {
    const metrics = result.metrics.map((m, i) => normaliseMetric(m, i, this.file))
    const artifacts: ArtifactRecord[] = (result.artifacts ?? []).map((a) => ({ path: a.path, sha256: a.sha256, kind: a.kind }))
    const repro: Reproducibility | null = result.reproducibility ?? null
    this.append("job.done", {
      jobId,
      metrics,
      artifacts,
      timings: result.timings ?? null,
      reproducibility: repro
    })
    return this.job(jobId)!
  }

  failJob(jobId: string, failure: { error: string; step?: number | null }): JobRow {
    this.append("job.fail", { jobId, error: failure.error, step: failure.step ?? null })
    return this.job(jobId)!
  }

  interruptJob(jobId: string, info: { step?: number | null; checkpoint?: string | null } = {}): JobRow {
    this.append("job.interrupt", {
      jobId,
      step: info.step ?? null,
      checkpoint: info.checkpoint ?? null,
      reason: "interrupted"
    })
    return this.job(jobId)!
  }

  /**
   * Marks as interrupted (reason "stale") the jobs left 'running' on this host by a process that no longer
   * exists. Jobs running on other hosts cannot be checked from here and are left alone. Returns how many.
   * (A recycled pid can hide a dead job until that pid exits; the job is then found at a later start.)
   */
  markStaleJobs(): number {
    const host = hostname()
    const candidates = this.database.prepare("SELECT id, pid FROM jobs WHERE status = 'running' AND host = ?").all(host) as Array<{
      id: string
      pid: number
    }>
    let marked = 0
    for (const c of candidates) {
      if (c.pid === process.pid || processAlive(c.pid)) continue
      this.write(() => {
        // re-check inside the write lock: another process may have finished or marked it meanwhile
        const row = this.sql("SELECT status FROM jobs WHERE id = ?").get(c.id) as { status: JobStatus }
        if (row.status !== "running") return
        this.appendInTransaction("job.interrupt", { jobId: c.id, step: null, checkpoint: null, reason: "stale" })
        marked++
      })
    }
    return marked
  }

  recordCertificate(input: CertificateInput): CertificateRow {
    const certificateId = randomUUID()
    this.append("certificate", {
      certificateId,
      jobId: input.jobId,
      rerunJobId: input.rerunJobId ?? null,
      mode: input.mode,
      tolerance: input.tolerance,
      verdict: input.verdict,
      maxAbsDiff: input.maxAbsDiff,
      compared: input.compared,
      details: input.details ?? null
    })
    return this.certificates().find((c) => c.id === certificateId)!
  }

  /**
   * Appends records taken from another ledger (merge): new seq, prev hash and hash here, original time and
   * payload kept. All in one transaction.
   */
  appendForeignRecords(records: Iterable<{ kind: RecordKind; at: string; data: unknown }>): number {
    return this.write(() => {
      let n = 0
      for (const r of records) {
        this.appendInTransaction(r.kind, r.data as Record<string, unknown>, r.at)
        n++
      }
      return n
    })
  }

  /**
   * Imports records with their original seq and hashes (JSON Lines import): the ledger must be empty or
   * end exactly where the imported chain continues. The caller verified the chain; this re-checks each link.
   */
  importRecords(records: Iterable<ChainRecord>): number {
    return this.write(() => {
      let n = 0
      for (const r of records) {
        const last = this.lastRecord.get() as { seq: number; hash: string } | undefined
        const expectedSeq = (last?.seq ?? 0) + 1
        const expectedPrev = last?.hash ?? GENESIS_HASH
        if (r.seq !== expectedSeq || r.prevHash !== expectedPrev) {
          throw ledgerError(
            "invalid",
            this.file,
            `cannot import record ${r.seq} into ${this.file}: it does not continue this ledger's chain (expected record ${expectedSeq} after hash ${expectedPrev.slice(0, 12)}…). ` +
              "Import into a new, empty ledger, or use harness ledger merge to combine ledgers"
          )
        }
        const hash = chainHash(r.prevHash, { seq: r.seq, kind: r.kind, at: r.at, data: r.data })
        if (hash !== r.hash) {
          throw ledgerError("tampered", this.file, `record ${r.seq} does not match its hash: the export was edited`)
        }
        this.insertRecord.run(r.seq, r.kind, r.at, canonicalJson(r.data), r.prevHash, r.hash)
        this.projector.apply(r.seq, r.kind, r.at, r.data as Record<string, unknown>)
        n++
      }
      return n
    })
  }

  // ---------------------------------------------------------------- reading

  private read<T>(fn: () => T): T {
    try {
      return fn()
    } catch (e) {
      throw translateSqliteError(e, this.file)
    }
  }

  run(runId: string): RunRow | undefined {
    return this.read(() => {
      const r = this.sql("SELECT * FROM runs WHERE id = ?").get(runId) as RunDbRow | undefined
      return r && toRun(r)
    })
  }

  runs(): RunRow[] {
    return this.read(() => (this.sql("SELECT * FROM runs ORDER BY record_seq").all() as RunDbRow[]).map(toRun))
  }

  /** The most recently begun run, optionally of one suite. */
  latestRun(suite?: string): RunRow | undefined {
    return this.read(() => {
      const r = (
        suite === undefined
          ? this.sql("SELECT * FROM runs ORDER BY record_seq DESC LIMIT 1").get()
          : this.sql("SELECT * FROM runs WHERE suite = ? ORDER BY record_seq DESC LIMIT 1").get(suite)
      ) as RunDbRow | undefined
      return r && toRun(r)
    })
  }

  job(jobId: string): JobRow | undefined {
    return this.read(() => {
      const r = this.sql("SELECT * FROM jobs WHERE id = ?").get(jobId) as JobDbRow | undefined
      return r && toJob(r)
    })
  }

  /** The latest done job with this key: the runner skips the key when there is one. */
  findDoneJob(key: string): JobRow | undefined {
    return this.read(() => {
      const r = this.database.prepare("SELECT * FROM jobs WHERE key = ? AND status = 'done' ORDER BY last_seq DESC LIMIT 1").get(key) as
        | JobDbRow
        | undefined
      return r && toJob(r)
    })
  }

  /** The latest interrupted job with this key that left a checkpoint (resume candidate). */
  findResumableJob(key: string): JobRow | undefined {
    return this.read(() => {
      const r = this.database
        .prepare("SELECT * FROM jobs WHERE key = ? AND status = 'interrupted' AND checkpoint IS NOT NULL ORDER BY last_seq DESC LIMIT 1")
        .get(key) as JobDbRow | undefined
      return r && toJob(r)
    })
  }

  jobs(filter: JobFilter = {}): JobRow[] {
    const where: string[] = []
    const args: unknown[] = []
    const add = (column: string, value: unknown) => {
      if (value === undefined) return
      where.push(`${column} = ?`)
      args.push(value)
    }
    add("run_id", filter.runId)
    add("key", filter.key)
    add("status", filter.status)
    add("name", filter.name)
    add("suite", filter.suite)
    // rowid order = the order the jobs were started (their job.start records)
    const sql = `SELECT * FROM jobs ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY rowid`
    return this.read(() => (this.sql(sql).all(...args) as JobDbRow[]).map(toJob))
  }

  metrics(jobId: string): MetricRow[] {
    return this.read(() => this.sql(`SELECT ${METRIC_COLUMNS} FROM metrics WHERE job_id = ? ORDER BY ordinal`).all(jobId) as MetricRow[])
  }

  artifacts(jobId: string): ArtifactRow[] {
    return this.read(
      () =>
        this.database
          .prepare("SELECT id, job_id AS jobId, path, sha256, kind FROM artifacts WHERE job_id = ? ORDER BY ordinal")
          .all(jobId) as ArtifactRow[]
    )
  }

  certificates(jobId?: string): CertificateRow[] {
    const sql = `SELECT id, job_id AS jobId, rerun_job_id AS rerunJobId, created_at AS createdAt, mode, tolerance, verdict,
      max_abs_diff AS maxAbsDiff, compared, details FROM certificates ${jobId ? "WHERE job_id = ?" : ""} ORDER BY created_at, id`
    return this.read(() =>
      (this.sql(sql).all(...(jobId ? [jobId] : [])) as Array<CertificateRow & { details: string }>).map((c) => ({
        ...c,
        details: JSON.parse(c.details)
      }))
    )
  }

  /** The chain, in order (export, merge). Lazy: safe for large ledgers. */
  *chainRecords(): Generator<ChainRecord> {
    const rows = this.sql("SELECT seq, kind, at, data, prev_hash, hash FROM chain ORDER BY seq").iterate() as IterableIterator<{
      seq: number
      kind: RecordKind
      at: string
      data: string
      prev_hash: string
      hash: string
    }>
    for (const r of rows) yield { seq: r.seq, kind: r.kind, at: r.at, data: JSON.parse(r.data), prevHash: r.prev_hash, hash: r.hash }
  }

  /** The newest record's seq and hash (undefined for an empty ledger). */
  head(): { seq: number; hash: string } | undefined {
    return this.read(() => this.lastRecord.get() as { seq: number; hash: string } | undefined)
  }

  recordCount(): number {
    return (this.sql("SELECT count(*) AS n FROM chain").get() as { n: number }).n
  }

  /** Recomputes every record hash and the chain, then rebuilds every table from the chain and compares. */
  verify(): VerifyReport {
    // one read transaction: a consistent snapshot even while another process appends
    return this.read(() => this.database.transaction(() => verifyDatabase(this.database, this.file)).deferred())
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.database.close()
  }
}
