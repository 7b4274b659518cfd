/**
 * `harness eval <checkpoint>`: evaluate a trained checkpoint again, without retraining — at other lengths,
 * under inference-time extensions (PI, NTK, dynamic NTK, YaRN, Llama 3), with other tasks. The model is rebuilt from the
 * checkpoint's own description (configuration, seed, embedding spec), its files verified by sha256, and the
 * results recorded in the ledger as a job keyed by the checkpoint hash and the evaluation settings.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Console, Effect, Layer } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { loadDecoder } from "../../../models/checkpoint/load-decoder.js"
import { canonicalJson, sha256Hex } from "../../../ledger/canonical.js"
import { BACKEND_CHOICES, TASKS, type Extension, type Task } from "../../../suites/schema.js"
import { UsageError } from "../../errors.js"
import { codeVersion, gitFacts } from "../../provenance/code-version.js"
import { environmentFingerprint } from "../../provenance/environment.js"
import { CorpusService } from "../../runner/corpus-service.js"
import { Engine } from "../../runner/engine-service.js"
import { evaluateJob, extensionTag } from "../../runner/evaluate-job.js"
import { Ledger } from "../../../ledger/service.js"
import { beginSuiteRun } from "../../runner/job-records.js"
import { Progress } from "../../runner/progress.js"
import { formatNumber, renderTable } from "../../table.js"
import { ledgerFlag } from "../shared-flags.js"

const EXTENSIONS = ["none", "pi", "ntk", "dynamic-ntk", "yarn", "yarn-notemp", "llama3"] as const

const toExtension = (name: (typeof EXTENSIONS)[number]): Extension =>
  name === "yarn"
    ? { method: "yarn", temperature: true }
    : name === "yarn-notemp"
      ? { method: "yarn", temperature: false }
      : { method: name }

/** Parses a flag's comma-separated positive integers (`--multiples 1,2,4`). */
export const parseIntList = (flag: string, text: string): Effect.Effect<number[], UsageError> =>
  Effect.suspend(() => {
    const xs = text.split(",").map((s) => Number(s.trim()))
    if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) {
      return Effect.fail(
        new UsageError({ message: `${flag} "${text}" is not a comma-separated list of positive integers (for example ${flag} 1,2,4)` })
      )
    }
    return Effect.succeed(xs)
  })

export const evalCommand = Command.make(
  "eval",
  {
    checkpoint: Argument.String("checkpoint").pipe(
      Argument.withDescription("a checkpoint directory (under .harness/checkpoints/ after a run; holds manifest.json)")
    ),
    multiples: Flag.String("multiples").pipe(
      Flag.withDefault("1,2,4"),
      Flag.withDescription("evaluation lengths as multiples of the training length")
    ),
    extension: Flag.Literals("extension", EXTENSIONS).pipe(
      Flag.atLeast(0),
      Flag.withDescription("inference-time extension(s) for rotary models; repeat for several (default none)")
    ),
    tasks: Flag.String("tasks").pipe(Flag.withDefault("perplexity"), Flag.withDescription(`comma-separated: ${TASKS.join(", ")}`)),
    maxWindows: Flag.Int("max-windows").pipe(Flag.withDefault(16), Flag.withDescription("validation windows per length")),
    backend: Flag.Literals("backend", BACKEND_CHOICES).pipe(Flag.withDefault("auto" as const), Flag.withDescription("tensor backend")),
    ledger: ledgerFlag
  },
  (f) =>
    Effect.gen(function* () {
      if (!existsSync(join(f.checkpoint, "manifest.json"))) {
        return yield* new UsageError({
          message: `${f.checkpoint} is not a checkpoint directory (no manifest.json). Checkpoints are under .harness/checkpoints/<key>/ after \`harness run\`.`
        })
      }
      const multiples = yield* parseIntList("--multiples", f.multiples)
      const tasks = f.tasks.split(",").map((s) => s.trim())
      const badTask = tasks.find((t) => !(TASKS as ReadonlyArray<string>).includes(t))
      if (badTask) return yield* new UsageError({ message: `--tasks: unknown task "${badTask}". Valid: ${TASKS.join(", ")}` })
      const extensions = (f.extension.length ? f.extension : ["none" as const]).map(toExtension)

      const program = Effect.gen(function* () {
        const loaded = yield* Effect.try({
          try: () => loadDecoder(f.checkpoint),
          catch: (e) => new UsageError({ message: (e as Error).message })
        })
        const { model, sha256 } = loaded
        const described = loaded.state.model
        const c = described.config
        try {
          // evaluation reads the shipped corpus, through the tokenizer the vocabulary size names
          if (c.vocabSize !== 256 && c.vocabSize !== 50257) {
            return yield* new UsageError({
              message:
                `${f.checkpoint} has a vocabulary of ${c.vocabSize} ids (trained on a declared token corpus): harness eval evaluates on the shipped ` +
                `SOTU text, as bytes (256) or GPT-2 tokens (50257), which this model cannot read. Evaluate it in its own suite (evaluation.lengthMultiples, evaluation.extensions)`
            })
          }
          const tokenizer = c.vocabSize === 256 ? ("bytes" as const) : ("gpt2" as const)
          const corpus = yield* CorpusService
          const data = yield* corpus.load({ corpus: "sotu", tokenizer, validFraction: 0.1, passkeyFraction: 0 })
          const evaluation = {
            lengths: multiples.map((m) => m * c.trainLength),
            tasks: tasks as Task[],
            maxWindows: f.maxWindows,
            passkeyTrials: 20,
            lossBuckets: 16,
            extensions
          }
          // the evaluation-only job: what it evaluated (the checkpoint's hash) and how
          const config = { checkpoint: sha256, evaluation, embedding: described.embedding, seed: described.seed, dataHash: data.hash }
          const key = sha256Hex(canonicalJson({ config, codeVersion: codeVersion() }))
          const { metrics } = yield* evaluateJob(
            model,
            { evaluation, seed: described.seed, trainLength: c.trainLength },
            data,
            () => Effect.void
          )
          const ledger = yield* Ledger
          const engine = yield* Engine
          const runId = yield* beginSuiteRun({
            suite: "eval",
            codeVersion: codeVersion(),
            git: gitFacts(),
            environment: environmentFingerprint(engine)
          })
          const { id: jobId } = yield* ledger.startJob({
            runId,
            key,
            name: `eval/${described.embedding.name}/${sha256.slice(0, 12)}`,
            config,
            seed: described.seed,
            suite: "eval"
          })
          yield* ledger.completeJob(jobId, {
            metrics,
            artifacts: [{ kind: "checkpoint", path: f.checkpoint, sha256 }],
            timings: {},
            reproducibility: engine.deterministic ? { mode: "bitwise" } : { mode: "tolerance", tolerance: 1e-3 }
          })
          yield* ledger.finishRun(runId)
          const rows = extensions.map((ext) => [
            ext.method === "none" ? "none" : extensionTag(ext).slice(1),
            ...evaluation.lengths.map((L) =>
              formatNumber(metrics.find((m) => m.name === `perplexity${extensionTag(ext)}` && m.length === L)?.value)
            )
          ])
          yield* Console.log(
            `checkpoint ${f.checkpoint} (sha256 ${sha256.slice(0, 12)}), ${described.embedding.name}, trained at ${c.trainLength}; recorded as job ${jobId} in ${ledger.file}\n`
          )
          yield* Console.log(renderTable(["extension", ...evaluation.lengths.map((L) => `ppl@${L}`)], rows))
          if (rows.some((r) => r.includes("-"))) {
            yield* Console.log(
              `\n"-" = not applicable: the extension is not defined for this embedding (PI and NTK rescale a RoPE frequency grid; FoPE extends with YaRN), or the length is beyond what it can represent.`
            )
          }
        } finally {
          model.embedding.dispose()
          model.dispose()
        }
      })
      yield* program.pipe(
        Effect.provide(Layer.mergeAll(Ledger.layer(f.ledger), CorpusService.layer, Engine.layer(f.backend), Progress.layer))
      )
    })
).pipe(
  Command.withDescription(
    "Evaluate a trained checkpoint again without retraining: other lengths, inference-time extensions (PI, NTK, dynamic NTK, YaRN), other tasks. " +
      "The checkpoint's files are verified by sha256; results go to the ledger."
  ),
  Command.withExamples([
    {
      command: "harness eval .harness/checkpoints/<key> --multiples 1,2,4,8 --extension none --extension yarn",
      description: "RoPE with and without YaRN"
    }
  ])
)
