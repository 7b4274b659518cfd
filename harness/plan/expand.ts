/**
 * Suite -> Plan: the matrix embeddings x scales x seeds, filtered by `matrix.exclude` and extended by
 * `matrix.include`, each cell resolved to a `JobConfig` with every default filled in, then keyed.
 *
 * Order is deterministic (the suite's order of embeddings, then scales, then seeds), which is what makes
 * `--shard i/N` a deterministic split: job number j goes to shard (j mod N) + 1.
 */
import { Effect } from "effect"
import type { CellPattern, Suite } from "../../suites/schema.js"
import { resolveEmbeddingParams } from "../../embeddings/registry.js"
import { resolveScale } from "../../models/scales.js"
import { TRAIN_DEFAULTS } from "../../models/train/index.js"
import { canonicalJson, sha256Hex } from "../../ledger/canonical.js"
import { sourceWithoutLocation } from "../../models/data/corpus-source.js"
import { embeddingLabel } from "../suite/load-suite.js"
import { planSizeProblem, seedProblems } from "../suite/suite-limits.js"
import { UsageError } from "../errors.js"
import type { Job, JobConfig } from "./job.js"

export const VOCAB_SIZES = { bytes: 256, gpt2: 50257 } as const

export const EVALUATION_DEFAULTS = { maxWindows: 16, passkeyTrials: 20, lossBuckets: 16 } as const

interface Cell {
  readonly entry: Suite["embeddings"][number]
  readonly label: string
  readonly scale: string
  readonly seed: number
}

const matches = (p: CellPattern, c: Cell): boolean =>
  (p.embedding === undefined || p.embedding === c.label) &&
  (p.scale === undefined || p.scale === c.scale) &&
  (p.seed === undefined || p.seed === c.seed)

/**
 * The plan's cells, in order. Fails with a UsageError, before a single cell is built, for a plan too large to expand
 * (refused by its size, in constant time) or repeated --seeds.
 */
export const expandCells = (suite: Suite, seedsOverride?: ReadonlyArray<number>): Effect.Effect<Cell[], UsageError> =>
  Effect.suspend(() => {
    const seeds = seedsOverride ?? suite.seeds
    const tooLarge = planSizeProblem(suite.embeddings.length, suite.scales.length, seeds.length)
    const problems = tooLarge ? [tooLarge] : seedsOverride ? seedProblems(seedsOverride, "--seeds") : []
    if (problems.length > 0) return Effect.fail(new UsageError({ message: `suite "${suite.name}": ${problems.join("; ")}` }))
    return Effect.succeed(cellsOf(suite, seeds))
  })

const cellsOf = (suite: Suite, seeds: ReadonlyArray<number>): Cell[] => {
  const cells: Cell[] = []
  for (const entry of suite.embeddings)
    for (const scale of suite.scales) for (const seed of seeds) cells.push({ entry, label: embeddingLabel(entry), scale, seed })
  const exclude = suite.matrix?.exclude ?? []
  const kept = cells.filter((c) => !exclude.some((p) => matches(p, c)))
  // `include` re-admits excluded cells that match it (GitHub Actions' matrix semantics, restricted to cells).
  const include = suite.matrix?.include ?? []
  const readmitted = cells.filter((c) => !kept.includes(c) && include.some((p) => matches(p, c)))
  return cells.filter((c) => kept.includes(c) || readmitted.includes(c))
}

export const resolveJobConfig = (suite: Suite, cell: Cell, dataHash: string): JobConfig => {
  const scale = resolveScale(cell.scale)
  const name = typeof cell.entry === "string" ? cell.entry : cell.entry.name
  const rawParams = typeof cell.entry === "string" ? {} : (cell.entry.params ?? {})
  const t = suite.training
  return {
    suite: suite.name,
    embedding: { name, params: resolveEmbeddingParams(name, rawParams), label: cell.label },
    model: {
      scale: scale.name,
      // a token corpus declares its vocabulary; text corpora take their tokenizer's
      vocabSize:
        typeof suite.data.corpus === "object" && suite.data.corpus.kind === "tokens"
          ? suite.data.corpus.vocabSize
          : VOCAB_SIZES[suite.data.tokenizer as keyof typeof VOCAB_SIZES],
      dModel: scale.dModel,
      heads: scale.heads,
      layers: scale.layers,
      ffnHidden: scale.ffnHidden,
      trainLength: t.length,
      gpuOnly: scale.gpuOnly
    },
    training: {
      steps: t.steps,
      batchSize: t.batchSize,
      seqLength: t.length,
      learningRate: t.learningRate,
      warmupSteps: t.warmupSteps ?? Math.max(1, Math.round(t.steps * 0.1)),
      checkpointEvery: t.checkpointEvery ?? Math.max(10, Math.ceil(t.steps / 4)),
      // the recipe's fixed parts (FoPE paper / OLMo: AdamW 0.9/0.95, wd 0.1, cosine to 0.1x, clip 1.0)
      ...TRAIN_DEFAULTS
    },
    data: {
      corpus: suite.data.corpus,
      tokenizer: suite.data.tokenizer,
      validFraction: typeof suite.data.corpus === "object" ? (suite.data.corpus.validFraction ?? 0.1) : 0.1,
      passkeyFraction: suite.data.passkeyFraction ?? 0,
      ...(suite.data.synthetic ? { synthetic: suite.data.synthetic } : {}),
      contentHash: dataHash
    },
    evaluation: {
      lengths: suite.evaluation.lengthMultiples.map((m) => m * t.length),
      tasks: suite.evaluation.tasks,
      maxWindows: suite.evaluation.maxWindows ?? EVALUATION_DEFAULTS.maxWindows,
      passkeyTrials: suite.evaluation.passkeyTrials ?? EVALUATION_DEFAULTS.passkeyTrials,
      lossBuckets: suite.evaluation.lossBuckets ?? EVALUATION_DEFAULTS.lossBuckets,
      extensions: suite.evaluation.extensions ?? [{ method: "none" }]
    },
    seed: cell.seed
  }
}

/** The config as keyed: a declared corpus without its paths (its content hash is in `data.contentHash`), so moving the data keeps the keys. */
const keyedConfig = (config: JobConfig): unknown =>
  typeof config.data.corpus === "object"
    ? { ...config, data: { ...config.data, corpus: sourceWithoutLocation(config.data.corpus) } }
    : config

export const jobKey = (config: JobConfig, codeVersion: string): string =>
  sha256Hex(canonicalJson({ config: keyedConfig(config), codeVersion }))

export interface PlanOptions {
  readonly dataHash: string
  readonly codeVersion: string
  readonly seeds?: ReadonlyArray<number>
  readonly shard?: { readonly index: number; readonly count: number }
}

/** Every job of the plan, keyed; a shard's share of them with `shard`. Fails as expandCells does. */
export const expandPlan = (suite: Suite, options: PlanOptions): Effect.Effect<Job[], UsageError> =>
  Effect.map(expandCells(suite, options.seeds), (cells) => jobsOf(suite, cells, options))

const jobsOf = (suite: Suite, cells: ReadonlyArray<Cell>, options: PlanOptions): Job[] => {
  const jobs = cells.map((cell): Job => {
    const config = resolveJobConfig(suite, cell, options.dataHash)
    return {
      name: `${suite.name}/${cell.label}/${cell.scale}/seed${cell.seed}`,
      cell: { embedding: cell.label, scale: cell.scale, seed: cell.seed },
      config,
      key: jobKey(config, options.codeVersion)
    }
  })
  const shard = options.shard
  return shard ? jobs.filter((_, j) => j % shard.count === shard.index - 1) : jobs
}

/** Parses `--shard i/N` (1-based). */
export const parseShard = (text: string): Effect.Effect<{ index: number; count: number }, UsageError> =>
  Effect.suspend(() => {
    const m = /^(\d+)\/(\d+)$/.exec(text.trim())
    const index = m ? Number(m[1]) : NaN
    const count = m ? Number(m[2]) : NaN
    if (!m || count < 1 || index < 1 || index > count) {
      return Effect.fail(
        new UsageError({
          message: `--shard "${text}" is not i/N with 1 <= i <= N (for example --shard 1/2 and --shard 2/2 split a suite over two machines)`
        })
      )
    }
    return Effect.succeed({ index, count })
  })
