/**
 * Chain record -> table rows. The one function that turns a record of the hash chain into rows of
 * runs / jobs / metrics / artifacts / certificates. The store calls it inside the transaction that appends
 * the record; import and merge call it when they replay records; verify calls it on an in-memory database
 * to rebuild what the tables must contain. One code path, so "what the chain implies" cannot drift from
 * "what the store writes".
 *
 * Record payloads (the `data` of each kind):
 *   run.begin     { runId, suite, git: { commit, dirtyHash }, codeVersion, environment }
 *   run.finish    { runId }
 *   job.start     { jobId, runId, key, suite, name, config, seed, pid, host }
 *   job.resume    { jobId, pid, host }                       interrupted -> running (resume from checkpoint)
 *   job.done      { jobId, metrics: MetricRecord[], artifacts, timings, reproducibility }   the metric batch
 *   job.fail      { jobId, error, step }
 *   job.interrupt { jobId, step, checkpoint, reason: "interrupted" | "stale" }
 *   certificate   { certificateId, jobId, rerunJobId, mode, tolerance, verdict, maxAbsDiff, compared, details }
 */
import type Database from "better-sqlite3"
import { canonicalJson } from "./canonical.js"
import { ProjectionError } from "./errors.js"
import type { ArtifactRecord, JobStatus, MetricRecord, Reproducibility } from "./types.js"

type Data = Record<string, unknown>

const str = (d: Data, k: string): string => {
  const v = d[k]
  if (typeof v !== "string") throw new ProjectionError({ message: `field "${k}" must be a string, got ${JSON.stringify(v)}` })
  return v
}
const num = (d: Data, k: string): number => {
  const v = d[k]
  if (typeof v !== "number") throw new ProjectionError({ message: `field "${k}" must be a number, got ${JSON.stringify(v)}` })
  return v
}
const optNum = (d: Data, k: string): number | null => (d[k] === undefined || d[k] === null ? null : num(d, k))
const optStr = (d: Data, k: string): string | null => (d[k] === undefined || d[k] === null ? null : str(d, k))
const optJson = (v: unknown): string | null => (v === undefined || v === null ? null : canonicalJson(v))

/** Prepared statements for one database; create once per connection. */
export class Projector {
  private readonly s
  constructor(readonly db: Database.Database) {
    this.s = {
      insertRun: db.prepare(
        `INSERT INTO runs (id, record_seq, suite, started_at, finished_at, git_commit, git_dirty_hash, code_version, environment)
         VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)`
      ),
      runExists: db.prepare("SELECT finished_at AS finishedAt FROM runs WHERE id = ?"),
      finishRun: db.prepare("UPDATE runs SET finished_at = ? WHERE id = ?"),
      insertJob: db.prepare(
        `INSERT INTO jobs (id, run_id, key, suite, name, config, seed, status, started_at, pid, host, last_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)`
      ),
      jobStatus: db.prepare("SELECT status FROM jobs WHERE id = ?"),
      resumeJob: db.prepare("UPDATE jobs SET status = 'running', finished_at = NULL, pid = ?, host = ?, last_seq = ? WHERE id = ?"),
      doneJob: db.prepare(
        `UPDATE jobs SET status = 'done', finished_at = ?, timings = ?, reproducibility = ?, tolerance = ?, last_seq = ?
         WHERE id = ?`
      ),
      failJob: db.prepare("UPDATE jobs SET status = 'failed', finished_at = ?, error = ?, failure_step = ?, last_seq = ? WHERE id = ?"),
      interruptJob: db.prepare(
        `UPDATE jobs SET status = 'interrupted', finished_at = ?, error = ?, failure_step = ?, checkpoint = ?, last_seq = ?
         WHERE id = ?`
      ),
      insertMetric: db.prepare(
        `INSERT INTO metrics (job_id, ordinal, name, value, unit, better, length, step) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
      ),
      insertArtifact: db.prepare("INSERT INTO artifacts (job_id, ordinal, path, sha256, kind) VALUES (?, ?, ?, ?, ?)"),
      insertCertificate: db.prepare(
        `INSERT INTO certificates (id, job_id, rerun_job_id, created_at, mode, tolerance, verdict, max_abs_diff, compared, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      )
    }
  }

  private requireStatus(jobId: string, allowed: ReadonlyArray<JobStatus>, action: string): void {
    const row = this.s.jobStatus.get(jobId) as { status: JobStatus } | undefined
    if (!row) throw new ProjectionError({ message: `cannot ${action} job ${jobId}: no such job` })
    if (!allowed.includes(row.status)) {
      throw new ProjectionError({
        message: `cannot ${action} job ${jobId}: it is '${row.status}' (only ${allowed.map((s) => `'${s}'`).join(" or ")} jobs can be)`
      })
    }
  }

  /** Applies one record's effect on the tables. Throws ProjectionError when the record does not fit the state. */
  apply(seq: number, kind: string, at: string, data: Data): void {
    switch (kind) {
      case "run.begin": {
        const git = (data.git ?? {}) as Data
        this.s.insertRun.run(
          str(data, "runId"),
          seq,
          str(data, "suite"),
          at,
          optStr(git, "commit"),
          optStr(git, "dirtyHash"),
          optStr(data, "codeVersion"),
          canonicalJson(data.environment ?? null)
        )
        return
      }
      case "run.finish": {
        const runId = str(data, "runId")
        const row = this.s.runExists.get(runId) as { finishedAt: string | null } | undefined
        if (!row) throw new ProjectionError({ message: `cannot finish run ${runId}: no such run` })
        if (row.finishedAt !== null) throw new ProjectionError({ message: `run ${runId} is already finished` })
        this.s.finishRun.run(at, runId)
        return
      }
      case "job.start": {
        const runId = str(data, "runId")
        if (!this.s.runExists.get(runId)) throw new ProjectionError({ message: `cannot start a job in run ${runId}: no such run` })
        this.s.insertJob.run(
          str(data, "jobId"),
          runId,
          str(data, "key"),
          str(data, "suite"),
          str(data, "name"),
          canonicalJson(data.config ?? null),
          num(data, "seed"),
          at,
          num(data, "pid"),
          str(data, "host"),
          seq
        )
        return
      }
      case "job.resume": {
        const jobId = str(data, "jobId")
        this.requireStatus(jobId, ["interrupted"], "resume")
        this.s.resumeJob.run(num(data, "pid"), str(data, "host"), seq, jobId)
        return
      }
      case "job.done": {
        const jobId = str(data, "jobId")
        this.requireStatus(jobId, ["running"], "complete")
        const metrics = (data.metrics ?? []) as ReadonlyArray<MetricRecord>
        metrics.forEach((m, i) => this.s.insertMetric.run(jobId, i, m.name, m.value, m.unit, m.better, m.length ?? null, m.step ?? null))
        const artifacts = (data.artifacts ?? []) as ReadonlyArray<ArtifactRecord>
        artifacts.forEach((a, i) => this.s.insertArtifact.run(jobId, i, a.path, a.sha256, a.kind))
        const repro = (data.reproducibility ?? null) as Reproducibility | null
        this.s.doneJob.run(at, optJson(data.timings), repro?.mode ?? null, repro?.mode === "tolerance" ? repro.tolerance : null, seq, jobId)
        return
      }
      case "job.fail": {
        const jobId = str(data, "jobId")
        this.requireStatus(jobId, ["running"], "fail")
        this.s.failJob.run(at, str(data, "error"), optNum(data, "step"), seq, jobId)
        return
      }
      case "job.interrupt": {
        const jobId = str(data, "jobId")
        this.requireStatus(jobId, ["running"], "interrupt")
        const reason = str(data, "reason")
        const error = reason === "stale" ? "stale: the process running it died without recording an outcome" : "interrupted"
        this.s.interruptJob.run(at, error, optNum(data, "step"), optStr(data, "checkpoint"), seq, jobId)
        return
      }
      case "certificate": {
        const jobId = str(data, "jobId")
        if (!this.s.jobStatus.get(jobId)) throw new ProjectionError({ message: `certificate for job ${jobId}: no such job` })
        this.s.insertCertificate.run(
          str(data, "certificateId"),
          jobId,
          optStr(data, "rerunJobId"),
          at,
          str(data, "mode"),
          optNum(data, "tolerance"),
          str(data, "verdict"),
          num(data, "maxAbsDiff"),
          num(data, "compared"),
          canonicalJson(data.details ?? null)
        )
        return
      }
      default:
        throw new ProjectionError({ message: `unknown record kind "${kind}" (written by a newer harness?)` })
    }
  }
}
