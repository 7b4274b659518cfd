/**
 * The corpus as a service: the shipped SOTU text or a suite's declared source, tokenized once per process, shared
 * by every job, with the optional passkey mixture for training. Its content hash goes into every job key. A corpus
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
import type { ResolvedData } from "../plan/job.js"

export interface JobData {
  readonly corpus: TokenizedCorpus
  readonly train: Int32Array
  readonly valid: Int32Array
  /** content hash of the corpus split and tokenizer, plus the mixture when there is one */
  readonly hash: string
  readonly mixer?: { readonly fraction: number; make(rng: SeededRandom, length: number): Int32Array }
}

/** What to load: the resolved data spec, before its content hash is known. */
export type DataSpec = Omit<ResolvedData, "contentHash">

export interface CorpusShape {
  readonly load: (data: DataSpec) => Effect.Effect<JobData, SuiteError>
}

const loadJobData = (data: DataSpec, cache: Map<string, JobData>): JobData => {
  const id = canonicalJson([data.corpus, data.tokenizer, data.validFraction, data.passkeyFraction])
  const hit = cache.get(id)
  if (hit) return hit
  const corpus = loadCorpus({ corpus: data.corpus, tokenizer: data.tokenizer, validFraction: data.validFraction })
  const mixed = data.passkeyFraction > 0
  const jobData: JobData = {
    corpus,
    train: corpus.train,
    valid: corpus.valid,
    hash: mixed ? sha256Hex(`${corpus.hash}+passkey:${passkeyProtocolHash(corpus.tokenizer)}@${data.passkeyFraction}`) : corpus.hash,
    ...(mixed
      ? { mixer: { fraction: data.passkeyFraction, make: (rng: SeededRandom, length: number) => makePasskeyTrainingRow(rng, length, corpus.tokenizer) } }
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
