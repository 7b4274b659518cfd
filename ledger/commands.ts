/**
 * The ledger's CLI commands as plain functions (the lead wires them into effect/cli): each opens what it
 * needs, closes it, and returns { exitCode, text, json }. Exit codes: 0 ok; 1 the answer is "no"
 * (verification failed, a regression, a tampered import); 2 the command could not run (bad file, bad
 * reference, busy, disk full), with a message that says what to do.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { checkRegressions, renderCheck, type Threshold } from "./check.js"
import { renderCheckJson, checkJson } from "./check-format-json.js"
import { renderCheckJunit } from "./check-format-junit.js"
import { renderCheckMarkdown } from "./check-format-markdown.js"
import { buildCheckReport, doneRecordHashes } from "./check-report.js"
import { diffSides, renderDiff } from "./diff.js"
import { isLedgerError, ledgerError, ledgerExitCode } from "./errors.js"
import { exportBmf, exportCsv, exportJsonl, importJsonl } from "./export.js"
import { mergeLedgers } from "./merge.js"
import { loadSide, resolveRef, type Side } from "./sides.js"
import { LedgerStore } from "./store.js"

export interface CommandResult {
  readonly exitCode: number
  readonly text: string
  readonly json?: unknown
}

const failure = (e: unknown): CommandResult => {
  if (isLedgerError(e)) {
    return { exitCode: ledgerExitCode(e), text: e.message, json: { error: e.code, file: e.file, message: e.message } }
  }
  throw e
}

/** Opens each ledger read-only: a reader never creates, migrates or writes a file (missing, empty: exit 2). */
const withStores = <T>(paths: ReadonlyArray<string>, f: (stores: LedgerStore[]) => T): T => {
  const stores: LedgerStore[] = []
  try {
    for (const p of paths) stores.push(LedgerStore.open(p, { readonly: true }))
    return f(stores)
  } finally {
    stores.forEach((s) => s.close())
  }
}

const isLedgerFile = (ref: string): boolean => existsSync(ref) && statSync(ref).isFile()

/** A side from a ledger file path (all its done jobs) or a reference inside `ledger`. */
const openSide = (ledger: string | undefined, ref: string, open: (path: string) => LedgerStore): Side => {
  if (isLedgerFile(ref)) return loadSide(open(ref), { kind: "all" }, `ledger ${ref}`)
  if (ledger === undefined) {
    throw ledgerError("invalid", ref, `"${ref}" is not a ledger file, and no --ledger was given to look it up in`)
  }
  const store = open(ledger)
  return loadSide(store, resolveRef(store, ref))
}

const sideOpener = () => {
  const opened = new Map<string, LedgerStore>()
  return {
    open: (path: string) => {
      let s = opened.get(path)
      if (!s) {
        s = LedgerStore.open(path, { readonly: true })
        opened.set(path, s)
      }
      return s
    },
    close: () => opened.forEach((s) => s.close())
  }
}

/** `harness ledger verify <file>` */
export const verifyCommand = (path: string): CommandResult => {
  try {
    const report = LedgerStore.verifyFile(path)
    const first = report.firstBad
    const verdict =
      first?.table === "sqlite" ? "DAMAGED" : first?.table === "schema" || first?.table === "schema_version" ? "SCHEMA CHANGED" : "TAMPERED"
    const text = report.ok
      ? `ok: ${path}: ${report.records} records, file, schema, chain and tables intact (head ${report.headHash})`
      : [
          `${verdict}: ${path}: first bad record: ${first!.table} ${first!.id}: ${first!.reason}`,
          ...report.problems.slice(1).map((p) => `  also: ${p.table} ${p.id}: ${p.reason}`),
          "Restore the ledger from a JSON Lines export or a backup; never edit it by hand."
        ].join("\n")
    return { exitCode: report.ok ? 0 : 1, text, json: report }
  } catch (e) {
    return failure(e)
  }
}

export interface DiffCommandInput {
  /** the ledger references are looked up in (not needed when A and B are ledger files) */
  readonly ledger?: string
  readonly a: string
  readonly b: string
  readonly all?: boolean
}

/** `harness ledger diff A B`: A and B are runs, job keys, suites at commits, or ledger files. Exit 0. */
export const diffCommand = (input: DiffCommandInput): CommandResult => {
  const opener = sideOpener()
  try {
    const a = openSide(input.ledger, input.a, opener.open)
    const b = openSide(input.ledger, input.b, opener.open)
    const report = diffSides(a, b, { all: input.all ?? false })
    return { exitCode: 0, text: renderDiff(report), json: report }
  } catch (e) {
    return failure(e)
  } finally {
    opener.close()
  }
}

export interface CheckCommandInput {
  readonly ledger?: string
  /** a ledger file, or a reference (run, suite@commit, ...) in `ledger` */
  readonly baseline: string
  /** a reference in `ledger` (default: the latest run), or a ledger file */
  readonly candidate?: string
  /** per-metric thresholds from the suite file */
  readonly thresholds?: Readonly<Record<string, Threshold>>
  readonly defaultThreshold?: Threshold
  readonly alpha?: number
  /** list unchanged rows too */
  readonly all?: boolean
  /** what `text` holds: the fixed-width table (default), Markdown, JUnit XML or JSON; `json` is the JSON in every case */
  readonly format?: CheckFormat
}

export const CHECK_FORMATS = ["table", "markdown", "junit", "json"] as const
export type CheckFormat = (typeof CHECK_FORMATS)[number]

/** `harness check --baseline <file or run>`: exit 1 with a table (or the chosen format) when something regressed, else 0. */
export const checkCommand = (input: CheckCommandInput): CommandResult => {
  const opener = sideOpener()
  try {
    const candidateRef = input.candidate ?? "latest"
    const baseline = openSide(input.ledger, input.baseline, opener.open)
    const candidate = openSide(input.ledger, candidateRef, opener.open)
    const result = checkRegressions(baseline, candidate, {
      ...(input.thresholds ? { thresholds: input.thresholds } : {}),
      ...(input.defaultThreshold ? { defaultThreshold: input.defaultThreshold } : {}),
      ...(input.alpha !== undefined ? { alpha: input.alpha } : {})
    })
    // the record hashes come from the ledger each side was read from (openSide's rule; opened once, cached)
    const hashesOf = (ref: string) => doneRecordHashes(opener.open(isLedgerFile(ref) ? ref : input.ledger!))
    const report = buildCheckReport(
      result,
      { side: baseline, hashes: hashesOf(input.baseline) },
      { side: candidate, hashes: hashesOf(candidateRef) }
    )
    const all = input.all ?? false
    const format = input.format ?? "table"
    const text =
      format === "markdown"
        ? renderCheckMarkdown(report, { all })
        : format === "junit"
          ? renderCheckJunit(report)
          : format === "json"
            ? renderCheckJson(report)
            : renderCheck(result, { all })
    return { exitCode: result.exitCode, text, json: checkJson(report) }
  } catch (e) {
    return failure(e)
  } finally {
    opener.close()
  }
}

export interface ExportCommandInput {
  readonly ledger: string
  readonly format: "jsonl" | "csv" | "bmf"
  /** write here; without it the export is the returned text */
  readonly out?: string
  /** bmf only: one run instead of the whole ledger */
  readonly run?: string
}

/** `harness ledger export --format jsonl|csv|bmf [--out file]` */
export const exportCommand = (input: ExportCommandInput): CommandResult => {
  try {
    return withStores([input.ledger], ([store]) => {
      const content =
        input.format === "jsonl"
          ? exportJsonl(store)
          : input.format === "csv"
            ? exportCsv(store)
            : JSON.stringify(exportBmf(store, input.run), null, 2) + "\n"
      if (input.out === undefined) return { exitCode: 0, text: content }
      writeFileSync(input.out, content)
      return {
        exitCode: 0,
        text: `wrote ${input.out} (${input.format}, ${content.length} bytes)`,
        json: { out: input.out, bytes: content.length }
      }
    })
  } catch (e) {
    return failure(e)
  }
}

/** `harness ledger import <export.jsonl> --ledger <file>`: verifies the export's chain, then writes it all or nothing. */
export const importCommand = (input: { readonly ledger: string; readonly from: string }): CommandResult => {
  let store: LedgerStore | undefined
  try {
    if (!existsSync(input.from)) throw ledgerError("invalid", input.from, `${input.from} does not exist: check the path`)
    const text = readFileSync(input.from, "utf8")
    store = LedgerStore.open(input.ledger)
    const n = importJsonl(store, text, input.from)
    const report = store.verify()
    return {
      exitCode: report.ok ? 0 : 1,
      text: `imported ${n} records from ${input.from} into ${input.ledger}; ${report.ok ? "verified" : `VERIFY FAILED: ${report.firstBad!.reason}`}`,
      json: { imported: n, verify: report }
    }
  } catch (e) {
    return failure(e)
  } finally {
    store?.close()
  }
}

/** `harness ledger merge <target> <source>...` */
export const mergeCommand = (input: { readonly target: string; readonly sources: ReadonlyArray<string> }): CommandResult => {
  let target: LedgerStore | undefined
  try {
    return withStores(input.sources, (sources) => {
      target = LedgerStore.open(input.target)
      const report = mergeLedgers(target, sources)
      const lines = [
        `merged ${sources.length} ledgers into ${input.target}: ${report.jobsAdded} jobs, ${report.recordsAppended} records appended`,
        ...report.sources.map((s) => `  ${s.file}: ${s.jobs} jobs, ${s.jobsTaken} taken, ${s.duplicateJobsSkipped} duplicates skipped`)
      ]
      return { exitCode: 0, text: lines.join("\n"), json: report }
    })
  } catch (e) {
    return failure(e)
  } finally {
    target?.close()
  }
}
