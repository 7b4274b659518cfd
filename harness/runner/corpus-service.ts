/**
 * The corpus as a service: the shipped SOTU text or a suite's declared source, tokenized once per process, shared
 * by every job, with the optional passkey mixture or synthetic task for training. Its content hash goes into every job key. A corpus
 * that cannot be used (missing, empty, not text, not UTF-8, ...) fails as a SuiteError naming the fix, before any
 * job starts.
 */
import { Context, Effect, Layer } from "effect"
import type { SeededRandom } from "../../embeddings/seeded-random.js"
import { loadCorpus, type TokenizedCorpus } from "../../models/data/corpus.js"
import { DataError } from "../../models/data/errors.js"
import { canonicalJson, sha256Hex } from "../../ledger/canonical.js"
import { SuiteError } from "../errors.js"
import { makePasskeyTrainingRow, passkeyProtocolHash } from "../../models/data/passkey.js"
import { SYNTHETIC_PROTOCOL, trainingGenerator, type SyntheticTask } from "../../models/data/synthetic-tasks.js"
import type { ResolvedData } from "../plan/job.js"

export interface JobData {
  readonly corpus: TokenizedCorpus
  readonly train: Int32Array
  readonly valid: Int32Array
  /** content hash of the corpus split and tokenizer, plus the mixture when there is one */
  readonly hash: string
  readonly mixer?: { readonly fraction: number; make(rng: SeededRandom, length: number): Int32Array }
  /** the synthetic tasks the rows come from (then `mixer` makes every row), for their evaluation */
  readonly synthetic?: ReadonlyArray<SyntheticTask>
}

/** What to load: the resolved data spec, before its content hash is known. */
export type DataSpec = Omit<ResolvedData, "contentHash">

export interface CorpusShape {
  readonly load: (data: DataSpec) => Effect.Effect<JobData, SuiteError>
}

const loadJobData = (data: DataSpec, cache: Map<string, JobData>): JobData => {
  const id = canonicalJson([data.corpus, data.tokenizer, data.validFraction, data.passkeyFraction, data.synthetic ?? null])
  const hit = cache.get(id)
  if (hit) return hit
  const corpus = loadCorpus({ corpus: data.corpus, tokenizer: data.tokenizer, validFraction: data.validFraction })
  const tasks = data.synthetic
  if (tasks !== undefined) {
    // byte generators: every training row is one example of one task (drawn uniformly), exactly the row's length
    if (data.tokenizer !== "bytes") throw new DataError(`data.synthetic makes byte sequences; set data.tokenizer to "bytes"`)
    if (data.passkeyFraction > 0) throw new DataError(`data.synthetic replaces every training row; drop data.passkeyFraction`)
    const makers = tasks.map(trainingGenerator)
    const jobData: JobData = {
      corpus,
      train: corpus.train,
      valid: corpus.valid,
      hash: sha256Hex(`${corpus.hash}+synthetic:${SYNTHETIC_PROTOCOL}/${tasks.join(",")}`),
      mixer: { fraction: 1, make: (rng: SeededRandom, length: number) => makers[rng.int(makers.length)]!(rng, length).tokens },
      synthetic: tasks
    }
    cache.set(id, jobData)
    return jobData
  }
  const mixed = data.passkeyFraction > 0
  const jobData: JobData = {
    corpus,
    train: corpus.train,
    valid: corpus.valid,
    hash: mixed ? sha256Hex(`${corpus.hash}+passkey:${passkeyProtocolHash(corpus.tokenizer)}@${data.passkeyFraction}`) : corpus.hash,
    ...(mixed
      ? {
          mixer: {
            fraction: data.passkeyFraction,
            make: (rng: SeededRandom, length: number) => makePasskeyTrainingRow(rng, length, corpus.tokenizer)
          }
        }
      : {})
  }
  cache.set(id, jobData)
  return jobData
}

export class CorpusService extends Context.Service<CorpusService, CorpusShape>()("fope-harness/Corpus") {
  static readonly layer = Layer.sync(CorpusService, () => {
    const cache = new Map<string, JobData>()
    return {
      load: (data) =>
        Effect.suspend(() => {
          try {
            return Effect.succeed(loadJobData(data, cache))
          } catch (e) {
            // bad data is the user's to fix, in the suite file or on disk; anything else is a defect
            return e instanceof DataError ? Effect.fail(new SuiteError({ message: e.message })) : Effect.die(e)
          }
        })
    }
  })
}
