/**
 * The tensors of a model as named float32 arrays, for model.safetensors: the decoder's parameters, the position
 * embedding's trainable variables, and its fixed tensors (FoPE's coefficients: they define the method, so they
 * are saved and hashed even though no gradient touches them).
 */
import * as tf from "@tensorflow/tfjs"
import { positionTensorName, type Decoder } from "../decoder.js"
import type { NamedArray } from "./safetensors.js"
import { CheckpointError } from "./manifest.js"

const toNamedArray = (name: string, t: tf.Tensor): NamedArray => {
  if (t.dtype !== "float32" && t.dtype !== "int32") {
    throw new CheckpointError(`tensor "${name}" has dtype ${t.dtype}; checkpoints hold float32 and int32 only`)
  }
  const data = t.dataSync()
  return {
    name,
    dtype: t.dtype === "float32" ? "F32" : "I32",
    shape: t.shape,
    data: t.dtype === "float32" ? Float32Array.from(data as Float32Array) : Int32Array.from(data as Int32Array)
  }
}

/** Names of the embedding's fixed tensors in a checkpoint, in a stable (sorted) order. */
const fixedEntries = (model: Decoder): Array<readonly [string, tf.Tensor]> =>
  Object.keys(model.embedding.fixed)
    .sort()
    .map((key) => [positionTensorName(model.embedding, key), model.embedding.fixed[key]!] as const)

/** Every tensor of the model, named: trainable (decoder, then position embedding), then the embedding's fixed ones. */
export const modelTensors = (model: Decoder): NamedArray[] => [
  ...model.namedTrainable.map(([name, v]) => toNamedArray(name, v)),
  ...fixedEntries(model).map(([name, t]) => toNamedArray(name, t))
]

/**
 * Loads saved tensors into a model built with the same configuration and position embedding. Trainable tensors are
 * assigned; fixed tensors cannot be assigned (they are not variables), so they are compared bitwise: a difference
 * means the embedding was built with other parameters or another seed than the saved one.
 */
export const restoreModelTensors = (model: Decoder, saved: ReadonlyArray<NamedArray>, what = "model.safetensors"): void => {
  const byName = new Map(saved.map((t) => [t.name, t]))
  const take = (name: string, shape: ReadonlyArray<number>): NamedArray => {
    const t = byName.get(name)
    if (!t)
      throw new CheckpointError(`${what} has no tensor "${name}": the checkpoint was saved from a different model or position embedding`)
    if (t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i])) {
      throw new CheckpointError(
        `${what}: tensor "${name}" has shape [${t.shape.join(", ")}], the model has [${shape.join(", ")}]: build the model with the checkpoint's config.json`
      )
    }
    return t
  }
  const expected = new Set<string>()
  for (const [name, v] of model.namedTrainable) {
    expected.add(name)
    const t = take(name, v.shape)
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, v.dtype)))
  }
  for (const [name, fixed] of fixedEntries(model)) {
    expected.add(name)
    const t = take(name, fixed.shape)
    const current = fixed.dataSync()
    for (let i = 0; i < current.length; i++) {
      if (!Object.is(current[i], t.data[i])) {
        throw new CheckpointError(
          `${what}: fixed tensor "${name}" differs from the model's at element ${i} (${t.data[i]} saved, ${current[i]} built): ` +
            `create the position embedding with the checkpoint's parameters and seed (state.json: model.embedding)`
        )
      }
    }
  }
  const extra = saved.filter((t) => !expected.has(t.name)).map((t) => t.name)
  if (extra.length > 0) {
    throw new CheckpointError(
      `${what} has tensors the model lacks: ${extra.slice(0, 5).join(", ")}${extra.length > 5 ? ", ..." : ""}; build the model from the checkpoint's config.json`
    )
  }
}
