/**
 * `harness ledger merge <target> <shard>...`: combines the ledgers written by shards (`--shard i/N`) into
 * one. Each source, and the target, is verified first (a tampered source is refused, naming the file).
 * De-duplication is by job key: a key done in the target is not taken again; among the sources the first
 * done job of a key wins (source order, then start order); keys that nowhere reached done keep every
 * attempt (their failures are history). The chosen records are re-chained in the target (new seq and
 * hashes, original time and payload) in ONE transaction: a merge is all or nothing.
 */
import { ledgerError } from "./errors.js"
import type { LedgerStore } from "./store.js"
import type { RecordKind } from "./types.js"

export interface MergeSourceReport {
  readonly file: string
  readonly records: number
  readonly jobs: number
  readonly jobsTaken: number
  readonly duplicateJobsSkipped: number
}

export interface MergeReport {
  readonly target: string
  readonly sources: ReadonlyArray<MergeSourceReport>
  readonly recordsAppended: number
  readonly jobsAdded: number
}

const assertIntact = (store: LedgerStore, role: string): void => {
  const report = store.verify()
  if (!report.ok) {
    const bad = report.firstBad!
    throw ledgerError(
      "tampered",
      store.file,
      `refusing to merge: ${role} ${store.file} fails verification at ${bad.table} ${bad.id}: ${bad.reason}. Nothing was written; run harness ledger verify ${store.file}`
    )
  }
}

export const mergeLedgers = (target: LedgerStore, sources: ReadonlyArray<LedgerStore>): MergeReport => {
  assertIntact(target, "target")
  sources.forEach((s) => assertIntact(s, "source"))

  const targetRuns = new Set(target.runs().map((r) => r.id))
  const targetJobs = new Set(target.jobs().map((j) => j.id))
  const targetCertificates = new Set(target.certificates().map((c) => c.id))
  const doneKeys = new Set(target.jobs({ status: "done" }).map((j) => j.key))
  const keysDoneAnywhere = new Set(doneKeys)
  for (const s of sources) for (const j of s.jobs({ status: "done" })) keysDoneAnywhere.add(j.key)

  const takenJobs = new Set<string>()
  const reports: MergeSourceReport[] = []
  const plans: Array<{ source: LedgerStore; runs: Set<string>; jobs: Set<string> }> = []
  for (const source of sources) {
    const jobs = source.jobs()
    let skipped = 0
    const taken = new Set<string>()
    for (const j of jobs) {
      if (targetJobs.has(j.id) || takenJobs.has(j.id)) {
        skipped++
        continue
      }
      if (j.status === "done") {
        if (doneKeys.has(j.key)) {
          skipped++
          continue
        }
        doneKeys.add(j.key)
      } else if (keysDoneAnywhere.has(j.key)) {
        skipped++ // an unfinished attempt of a key that is done somewhere: the done one stands for it
        continue
      }
      taken.add(j.id)
      takenJobs.add(j.id)
    }
    const runsWithJobs = new Set(jobs.map((j) => j.runId))
    const runs = new Set(
      source
        .runs()
        .map((r) => r.id)
        .filter((id) => !targetRuns.has(id) && (!runsWithJobs.has(id) || jobs.some((j) => j.runId === id && taken.has(j.id))))
    )
    runs.forEach((id) => targetRuns.add(id))
    plans.push({ source, runs, jobs: taken })
    reports.push({
      file: source.file,
      records: source.recordCount(),
      jobs: jobs.length,
      jobsTaken: taken.size,
      duplicateJobsSkipped: skipped
    })
  }

  function* chosenRecords(): Generator<{ kind: RecordKind; at: string; data: unknown }> {
    for (const plan of plans) {
      for (const r of plan.source.chainRecords()) {
        const d = r.data as { runId?: string; jobId?: string; certificateId?: string }
        const keep =
          r.kind === "run.begin" || r.kind === "run.finish"
            ? plan.runs.has(d.runId!)
            : r.kind === "certificate"
              ? !targetCertificates.has(d.certificateId!) && (plan.jobs.has(d.jobId!) || targetJobs.has(d.jobId!))
              : plan.jobs.has(d.jobId!)
        if (keep) yield { kind: r.kind, at: r.at, data: r.data }
      }
    }
  }
  const recordsAppended = target.appendForeignRecords(chosenRecords())
  return { target: target.file, sources: reports, recordsAppended, jobsAdded: takenJobs.size }
}
