/**
 * `harness export <checkpoint> --format llama`: a trained checkpoint in the layout of Hugging Face transformers'
 * Llama models (config.json + model.safetensors, PyTorch's [out, in] matrices, LlamaForCausalLM's names), for RoPE,
 * NoPE and FoPE (FoPE's coefficients as documented extra tensors). The checkpoint's files are verified by sha256
 * first; docs/checkpoint-format.md describes both layouts.
 */
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { loadDecoder } from "../../../models/checkpoint/load-decoder.js"
import { writeLlamaExport } from "../../../models/checkpoint/export-llama.js"
import { initEngine } from "../../../models/engine/index.js"
import { UsageError } from "../../errors.js"

export const exportCommand = Command.make(
  "export",
  {
    checkpoint: Argument.String("checkpoint").pipe(
      Argument.withDescription("a checkpoint directory (holds manifest.json; under .harness/checkpoints/ after a run)")
    ),
    format: Flag.Literals("format", ["llama"] as const).pipe(
      Flag.withDescription("llama: Hugging Face transformers' LlamaForCausalLM layout")
    ),
    out: Flag.String("out").pipe(
      Flag.optional,
      Flag.withDescription("the folder to write (default: <checkpoint>-llama); must not hold files already")
    )
  },
  (f) =>
    Effect.gen(function* () {
      if (!existsSync(join(f.checkpoint, "manifest.json"))) {
        return yield* new UsageError({
          message: `${f.checkpoint} is not a checkpoint directory (no manifest.json). Checkpoints are under .harness/checkpoints/<key>/ after \`harness run\`.`
        })
      }
      const out = Option.getOrElse(f.out, () => `${f.checkpoint.replace(/\/+$/, "")}-${f.format}`)
      if (existsSync(out) && readdirSync(out).length > 0) {
        return yield* new UsageError({
          message: `${out} already holds files; pass --out with an empty or new folder (an export never overwrites)`
        })
      }
      // the reference backend: the weights are read back exactly as saved
      yield* Effect.promise(() => initEngine({ backend: "cpu" }))
      const loaded = yield* Effect.try({
        try: () => loadDecoder(f.checkpoint),
        catch: (e) => new UsageError({ message: (e as Error).message })
      })
      const written = yield* Effect.try({
        try: () => writeLlamaExport(loaded.model, out),
        catch: (e) => new UsageError({ message: (e as Error).message })
      }).pipe(Effect.ensuring(Effect.sync(() => loaded.model.dispose())))
      const name = loaded.state.model.embedding.name
      yield* Console.log(
        `exported ${f.checkpoint} (sha256 ${loaded.sha256.slice(0, 12)}, ${name}, step ${loaded.state.step}) as LlamaForCausalLM:\n  ${written.config}\n  ${written.weights}` +
          (name === "nope" ? `\nNoPE: zero every inv_freq buffer after loading (config.json: fope_harness.load).` : "") +
          (name === "fope"
            ? `\nFoPE: the rotary tables come from the fope tensors and config.json fope_harness.fope (docs/checkpoint-format.md).`
            : "")
      )
    })
).pipe(
  Command.withDescription(
    "Write a trained checkpoint in another framework's layout. --format llama: Hugging Face transformers' Llama (config.json + model.safetensors with " +
      "[out, in] weights under LlamaForCausalLM's names) for RoPE and NoPE, and FoPE with its coefficients as extra tensors (docs/checkpoint-format.md)."
  ),
  Command.withExamples([
    {
      command: "harness export .harness/checkpoints/<key> --format llama --out rope-llama",
      description: 'then LlamaForCausalLM.from_pretrained("rope-llama")'
    }
  ])
)
