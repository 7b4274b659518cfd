/**
 * The checks on a suite that no single field can make: the size of its plan, repeated values, and
 * combinations that cannot work. Each problem is a line with its path inside the file, reported together with
 * the Schema's and the registries' problems (load-suite.ts), before anything is planned or run.
 */
import { LIMITS, type Suite, type Task } from "../../suites/schema.js"

/** Plural-aware count, with thousands separators so 200000 reads as 200,000. */
const count = (n: number, what: string): string => `${n.toLocaleString("en-US")} ${what}${n === 1 ? "" : "s"}`

/**
 * The number of jobs a plan can have: embeddings x scales x seeds (`matrix.exclude` can only remove cells and
 * `include` only re-admits excluded ones). Computed from the lengths alone, so a plan too large to expand is
 * refused before a single job is built.
 */
export const planSize = (embeddings: number, scales: number, seeds: number): number => embeddings * scales * seeds

export const planSizeProblem = (embeddings: number, scales: number, seeds: number): string | undefined => {
  const jobs = planSize(embeddings, scales, seeds)
  if (jobs <= LIMITS.jobs.maximum) return undefined
  return (
    `the plan has ${count(embeddings, "embedding")} x ${count(scales, "scale")} x ${count(seeds, "seed")} = ${count(jobs, "job")}, ` +
    `more than the limit of ${LIMITS.jobs.maximum.toLocaleString("en-US")} jobs in one suite: split it into several suites, or use fewer seeds`
  )
}

/**
 * The plan-size check on undecoded JSON: a file with 200,000 seeds is refused with its count before the Schema
 * decodes every entry. Only array lengths are read.
 */
export const rawPlanSizeProblem = (data: unknown): string | undefined => {
  if (typeof data !== "object" || data === null) return undefined
  const { embeddings, scales, seeds } = data as Record<string, unknown>
  if (!Array.isArray(embeddings) || !Array.isArray(scales) || !Array.isArray(seeds)) return undefined
  return planSizeProblem(embeddings.length, scales.length, seeds.length)
}

/** The first value that appears twice, with both positions. */
export const firstDuplicate = <A>(values: ReadonlyArray<A>): { value: A; first: number; again: number } | undefined => {
  const seen = new Map<A, number>()
  for (const [i, v] of values.entries()) {
    const first = seen.get(v)
    if (first !== undefined) return { value: v, first, again: i }
    seen.set(v, i)
  }
  return undefined
}

/** Seeds given on the command line (`--seeds`) obey the suite file's rules: distinct, and a plan within bounds. */
export const seedProblems = (seeds: ReadonlyArray<number>, where: string): string[] => {
  const duplicate = firstDuplicate(seeds)
  return duplicate
    ? [
        `${where}[${duplicate.again}]: seed ${duplicate.value} is already ${where}[${duplicate.first}]; each seed is one replicate, so a repeat would plan every job twice`
      ]
    : []
}

/**
 * The metrics each task records (models/eval, named in harness/runner/evaluate-job.ts), as exact names or as
 * prefixes ending in "*" (one metric per position bucket or layer). Training records its own on every job.
 * A task missing here is one this check does not know: its suite's thresholds are not checked.
 */
const TRAINING_METRICS = [
  "train_loss",
  "train_loss_final",
  "train_tokens_per_s",
  "train_seconds",
  "eval_seconds",
  "eval_tokens_per_s",
  "peak_rss_mb",
  "trained_tokens"
]
const TASK_METRICS: Partial<Record<Task, ReadonlyArray<string>>> = {
  perplexity: ["perplexity", "val_loss", "eval_tokens"],
  "loss-curve": ["loss_at_position_*"],
  passkey: ["passkey_accuracy", "passkey_trials"],
  spectrum: ["spectrum_damage", "spectrum_damage_layer*"]
}

const produces = (names: ReadonlyArray<string>, metric: string): boolean =>
  names.some((n) => (n.endsWith("*") ? metric.startsWith(n.slice(0, -1)) : metric === n))

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)
/** A number within its field's range: combinations are judged only between fields that are valid on their own. */
const within = (v: unknown, range: { readonly minimum: number; readonly maximum: number }): v is number =>
  isNumber(v) && Number.isInteger(v) && v >= range.minimum && v <= range.maximum
const numbers = (v: unknown, range: { readonly minimum: number; readonly maximum: number }): number[] | undefined =>
  Array.isArray(v) && v.length > 0 && v.every((x) => within(x, range)) ? v : undefined

/**
 * Problems that depend on several fields at once. It reads the suite defensively, so it also runs on a file whose
 * other fields do not decode: every problem of a file comes in one report. A check whose fields are missing or of
 * the wrong type is skipped (the Schema reports those).
 */
export const combinationProblems = (suite: Suite): string[] => {
  const problems: string[] = []
  const t = (suite.training ?? {}) as Partial<Suite["training"]>
  const e = (suite.evaluation ?? {}) as Partial<Suite["evaluation"]>
  const sizeProblem = rawPlanSizeProblem(suite)
  if (sizeProblem) problems.push(`(top level): ${sizeProblem}`)
  // a list over its bound is refused for its length already; scanning all of it for repeats would only cost time
  const seeds = Array.isArray(suite.seeds) && suite.seeds.length <= LIMITS.seeds.maxItems ? numbers(suite.seeds, LIMITS.seed) : undefined
  if (seeds) problems.push(...seedProblems(seeds, "seeds"))
  const multiples = numbers(e.lengthMultiples, LIMITS.lengthMultiple)
  const repeatedMultiple = multiples && firstDuplicate(multiples)
  if (repeatedMultiple) {
    problems.push(
      `evaluation.lengthMultiples[${repeatedMultiple.again}]: ${repeatedMultiple.value} is already evaluation.lengthMultiples[${repeatedMultiple.first}]; list each length once`
    )
  }
  if (within(t.warmupSteps, { minimum: 0, maximum: LIMITS.steps.maximum }) && within(t.steps, LIMITS.steps) && t.warmupSteps > t.steps) {
    problems.push(
      `training.warmupSteps: ${t.warmupSteps} warm-up steps is more than training.steps (${t.steps}): the learning rate would never reach its peak. Use at most ${t.steps} (about 10% is usual)`
    )
  }
  const longest = within(t.length, LIMITS.trainLength) && multiples ? t.length * Math.max(...multiples) : undefined
  if (within(e.lossBuckets, LIMITS.lossBuckets) && longest !== undefined && e.lossBuckets > longest) {
    problems.push(
      `evaluation.lossBuckets: ${e.lossBuckets} buckets over ${longest} positions (the longest evaluation length) leaves buckets empty; use at most ${longest}`
    )
  }
  const tasks = Array.isArray(e.tasks) ? (e.tasks as ReadonlyArray<Task>) : undefined
  // a malformed value (a list, thousands of keys) is the Schema's to report, not to be judged metric by metric
  const thresholds =
    typeof suite.thresholds === "object" &&
    suite.thresholds !== null &&
    !Array.isArray(suite.thresholds) &&
    Object.keys(suite.thresholds).length <= LIMITS.seeds.maxItems
      ? suite.thresholds
      : undefined
  // timing suites record benchmark metrics, not the tasks'; a task this check does not know records unknown names
  if ((suite.kind ?? "train") === "train" && thresholds && tasks?.every((task) => TASK_METRICS[task] !== undefined)) {
    const names = [...TRAINING_METRICS, ...tasks.flatMap((task) => TASK_METRICS[task] ?? [])]
    for (const metric of Object.keys(thresholds)) {
      // `perplexity@yarn` is perplexity under an extension (ledger/check.ts thresholdFor)
      const name = metric.split("@")[0]!
      if (!produces(names, name)) {
        problems.push(
          `thresholds.${metric}: no task of this suite records a metric "${name}" (tasks: ${tasks.join(", ")}), so this threshold would never apply. ` +
            `Add the task that records it, or fix the name (recorded here: ${names.join(", ")})`
        )
      }
    }
  }
  return problems
}

/** The evaluation's longest window, in tokens, against the validation stream it is cut from. */
export const evaluationLengthProblem = (suite: Suite, validationTokens: number): string | undefined => {
  const longest = suite.training.length * Math.max(...suite.evaluation.lengthMultiples)
  // a window of L tokens reads L + 1 (the targets are shifted by one)
  if (longest + 1 <= validationTokens) return undefined
  return (
    `evaluation.lengthMultiples: the longest evaluation length, ${longest.toLocaleString("en-US")} tokens (training.length ${suite.training.length} x ` +
    `${Math.max(...suite.evaluation.lengthMultiples)}), needs ${(longest + 1).toLocaleString("en-US")} tokens in one window, but the ${suite.data.corpus} ` +
    `validation split has ${validationTokens.toLocaleString("en-US")} ${suite.data.tokenizer} tokens: use smaller multiples or a shorter training length`
  )
}

/** No list or object in a suite needs more entries than the longest bounded list allows (the seeds). */
const DECODE_CAP = LIMITS.seeds.maxItems + 1

/**
 * The file's data with every list and object cut to one entry past the longest bound: decoding 200,000 entries
 * one by one (each with its own error, for a list of the wrong type) takes seconds only to report that there are
 * too many. A cut list still fails its bound with the Schema's message, everything else decodes as it is, and
 * the plan's size is judged on the uncut lengths.
 */
export const boundedForDecoding = (data: unknown): unknown => {
  if (Array.isArray(data)) return (data.length > DECODE_CAP ? data.slice(0, DECODE_CAP) : data).map(boundedForDecoding)
  if (typeof data !== "object" || data === null) return data
  const entries = Object.entries(data)
  return Object.fromEntries(
    (entries.length > DECODE_CAP ? entries.slice(0, DECODE_CAP) : entries).map(([k, v]) => [k, boundedForDecoding(v)])
  )
}
