/**
 * Fused ops: chains of tfjs ops that the models run on every layer, each computed forward by one C kernel and
 * backward by one more (native/kernels.c), where the native kernels are loaded (the "native" set of
 * override-table.ts). A training step otherwise makes hundreds of small kernel calls (each with tfjs's bookkeeping:
 * tensor tracking, the gradient tape, a clone of every tensor a gradient saves) and as many passes over its
 * activations; these cut both (docs/engine-measurements.md).
 *
 *   layerNorm(x, gain, bias)   (x - mean) / sqrt(var + eps) * gain + bias over the last axis  (tf.moments + 6 ops)
 *   rmsNorm(x, gain)           x / sqrt(mean(x^2) + eps) * gain                                 (6 ops)
 *   maskedSoftmax(x, mask)     softmax(x + mask) over the last axis, mask [rows, keys] broadcast (add + softmax)
 *   crossEntropy(logits, ids)  mean over rows of logsumexp(row) - row[id]          (log-softmax, pick, mean)
 *   swiglu(gate, up)           silu(gate) * up = gate * sigmoid(gate) * up                (sigmoid, 2 multiplies)
 *   biasRelu(x, bias)          relu(x + bias), bias over the last axis                          (add, relu)
 *
 * Each is a kernel of its own name with a gradient registered for it (tf.registerGradient), whose backward is one
 * kernel too. The models ask `fusedOpsAvailable()` and otherwise run their op chains unchanged: without the addon
 * (HARNESS_NATIVE=off, no oneDNN), on the WebAssembly GEMM path, on cpu and WebGPU their results keep their bits.
 *
 * Numerics: not the op chains' bits (sums in a fixed order of partial sums, native/kernels.c says which), the same
 * bits on every run and thread count; tests: test/models/engine/native-fused.test.ts (each op and its gradient
 * against the op chain on the cpu backend, a decoder's and the reference model's loss and gradients within 1e-5).
 */
import * as tf from "@tensorflow/tfjs"
import { heapBytes, heapOffset, sizeOf, type WasmBackendInternals } from "./heap.js"
import { nativeKernelsAddon, nativeKernelsInUse } from "./native.js"

export const LAYER_NORM_KERNEL = "NativeLayerNorm"
export const RMS_NORM_KERNEL = "NativeRMSNorm"
export const NORM_GRAD_KERNEL = "NativeNormGrad"
export const MASKED_SOFTMAX_KERNEL = "NativeMaskedSoftmax"
export const SOFTMAX_GRAD_KERNEL = "NativeSoftmaxGrad"
export const CROSS_ENTROPY_KERNEL = "NativeCrossEntropy"
export const CROSS_ENTROPY_GRAD_KERNEL = "NativeCrossEntropyGrad"
export const SWIGLU_KERNEL = "NativeSwiGLU"
export const SWIGLU_GRAD_KERNEL = "NativeSwiGLUGrad"
export const BIAS_RELU_KERNEL = "NativeBiasRelu"
export const BIAS_RELU_GRAD_KERNEL = "NativeBiasReluGrad"

export const nativeFusedLabel = (): string => {
  const info = nativeKernelsInUse()
  return info === null
    ? "LayerNorm/RMSNorm/MaskedSoftmax/CrossEntropy/SwiGLU/BiasRelu(native C fused: not loaded)"
    : `LayerNorm/RMSNorm/MaskedSoftmax/CrossEntropy/SwiGLU/BiasRelu(native C fused, ${info.compiler}, ${info.isa})`
}

/** desc[i] for an absent optional tensor */
const NO_TENSOR = 0xffffffff
const desc = new Uint32Array(16)

/** The shared descriptor filled for one call: the heap offsets of `tensors` (NO_TENSOR for an absent one), then `numbers`. */
const describe = (backend: WasmBackendInternals, tensors: ReadonlyArray<tf.TensorInfo | undefined>, ...numbers: number[]): Uint32Array => {
  let i = 0
  for (const t of tensors) desc[i++] = t ? heapOffset(backend, t) : NO_TENSOR
  for (const n of numbers) desc[i++] = n
  return desc
}

type Args = Parameters<tf.KernelFunc>[0]
const backendOf = (args: Args): WasmBackendInternals => args.backend as unknown as WasmBackendInternals

const addon = () => {
  const a = nativeKernelsAddon()
  if (a?.biasReluGrad === undefined) {
    throw new Error("fused kernels: the native addon is not loaded or predates them (rebuild with `npm run build:native`)")
  }
  return a as Required<typeof a>
}

const requireFloat = (kernel: string, ...ts: tf.TensorInfo[]): void => {
  for (const t of ts) if (t.dtype !== "float32") throw new Error(`${kernel}: float32 inputs only, got ${t.dtype}`)
}

/** Whether the models should run the fused ops: the live backend is wasm with the native kernels and these registered. */
export const fusedOpsAvailable = (): boolean => {
  if (tf.getBackend() !== "wasm" || nativeKernelsInUse() === null) return false
  const a = nativeKernelsAddon()
  return a?.biasReluGrad !== undefined && tf.getKernel(LAYER_NORM_KERNEL, "wasm") !== undefined
}

// ---- kernels -----------------------------------------------------------------------------------------------------

const normKernel =
  (kind: 0 | 1): tf.KernelFunc =>
  (args) => {
    const { x, gain, bias } = args.inputs as { x: tf.TensorInfo; gain: tf.TensorInfo; bias?: tf.TensorInfo }
    const { eps } = args.attrs as unknown as { eps: number }
    requireFloat("fused norm", x, gain, ...(bias ? [bias] : []))
    const cols = x.shape[x.shape.length - 1]!
    if (sizeOf(gain.shape) !== cols || (bias && sizeOf(bias.shape) !== cols))
      throw new Error("fused norm: gain and bias must have the last axis' size")
    const backend = backendOf(args)
    const out = backend.makeOutput([...x.shape], "float32")
    if (sizeOf(x.shape) === 0) return out
    addon().norm(heapBytes(backend), describe(backend, [out, x, gain, bias], sizeOf(x.shape) / cols, cols, kind), eps)
    return out
  }
export const nativeLayerNorm = normKernel(0)
export const nativeRmsNorm = normKernel(1)

export const nativeNormGrad: tf.KernelFunc = (args) => {
  const { dy, x, gain } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; gain: tf.TensorInfo }
  const { eps, kind, bias } = args.attrs as unknown as { eps: number; kind: 0 | 1; bias: boolean }
  requireFloat("fused norm gradient", dy, x, gain)
  const cols = x.shape[x.shape.length - 1]!
  const backend = backendOf(args)
  const outs = [
    backend.makeOutput([...x.shape], "float32"),
    backend.makeOutput([...gain.shape], "float32"),
    ...(bias ? [backend.makeOutput([...gain.shape], "float32")] : [])
  ]
  addon().normGrad(
    heapBytes(backend),
    describe(backend, [outs[0]!, outs[1]!, bias ? outs[2]! : undefined, dy, x, gain], sizeOf(x.shape) / cols, cols, kind),
    eps
  )
  return outs
}

export const nativeMaskedSoftmax: tf.KernelFunc = (args) => {
  const { logits, mask } = args.inputs as { logits: tf.TensorInfo; mask?: tf.TensorInfo }
  requireFloat("fused masked softmax", logits, ...(mask ? [mask] : []))
  const rank = logits.shape.length
  const cols = logits.shape[rank - 1]!
  if (mask && (mask.shape.length !== 2 || mask.shape[1] !== cols || rank < 2 || mask.shape[0] !== logits.shape[rank - 2])) {
    throw new Error(`fused masked softmax: mask [${mask.shape}] must be [rows, keys] of logits [${logits.shape}]`)
  }
  const backend = backendOf(args)
  const out = backend.makeOutput([...logits.shape], "float32")
  if (sizeOf(logits.shape) === 0) return out
  addon().maskedSoftmax(
    heapBytes(backend),
    describe(backend, [out, logits, mask], sizeOf(logits.shape) / cols, cols, mask ? mask.shape[0]! : 1)
  )
  return out
}

export const nativeSoftmaxGrad: tf.KernelFunc = (args) => {
  const { p, dy } = args.inputs as { p: tf.TensorInfo; dy: tf.TensorInfo }
  requireFloat("fused softmax gradient", p, dy)
  const cols = p.shape[p.shape.length - 1]!
  const backend = backendOf(args)
  const out = backend.makeOutput([...p.shape], "float32")
  if (sizeOf(p.shape) === 0) return out
  addon().softmaxGrad(heapBytes(backend), describe(backend, [out, p, dy], sizeOf(p.shape) / cols, cols))
  return out
}

const checkCrossEntropy = (logits: tf.TensorInfo, targets: tf.TensorInfo): void => {
  requireFloat("fused cross-entropy", logits)
  if (targets.dtype !== "int32" || logits.shape.length !== 2 || sizeOf(targets.shape) !== logits.shape[0] || sizeOf(logits.shape) === 0) {
    throw new Error(
      `fused cross-entropy: logits [rows, classes] float32 and int32 targets [rows], got [${logits.shape}] and ${targets.dtype} [${targets.shape}]`
    )
  }
}

export const nativeCrossEntropy: tf.KernelFunc = (args) => {
  const { logits, targets } = args.inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo }
  checkCrossEntropy(logits, targets)
  const backend = backendOf(args)
  const out = backend.makeOutput([], "float32")
  addon().crossEntropy(heapBytes(backend), describe(backend, [out, logits, targets], logits.shape[0]!, logits.shape[1]!))
  return out
}

export const nativeCrossEntropyGrad: tf.KernelFunc = (args) => {
  const { dy, logits, targets } = args.inputs as { dy: tf.TensorInfo; logits: tf.TensorInfo; targets: tf.TensorInfo }
  checkCrossEntropy(logits, targets)
  requireFloat("fused cross-entropy gradient", dy)
  const backend = backendOf(args)
  const out = backend.makeOutput([...logits.shape], "float32")
  addon().crossEntropyGrad(heapBytes(backend), describe(backend, [out, logits, targets, dy], logits.shape[0]!, logits.shape[1]!))
  return out
}

export const nativeSwiGLU: tf.KernelFunc = (args) => {
  const { gate, up } = args.inputs as { gate: tf.TensorInfo; up: tf.TensorInfo }
  requireFloat("fused SwiGLU", gate, up)
  if (!tf.util.arraysEqual(gate.shape, up.shape)) throw new Error(`fused SwiGLU: gate [${gate.shape}] and up [${up.shape}] differ`)
  const backend = backendOf(args)
  const out = backend.makeOutput([...gate.shape], "float32")
  if (sizeOf(gate.shape) === 0) return out
  addon().swiglu(heapBytes(backend), describe(backend, [out, gate, up], sizeOf(gate.shape)))
  return out
}

export const nativeSwiGLUGrad: tf.KernelFunc = (args) => {
  const { dy, gate, up } = args.inputs as { dy: tf.TensorInfo; gate: tf.TensorInfo; up: tf.TensorInfo }
  requireFloat("fused SwiGLU gradient", dy, gate, up)
  const backend = backendOf(args)
  const outs = [backend.makeOutput([...gate.shape], "float32"), backend.makeOutput([...up.shape], "float32")]
  if (sizeOf(gate.shape) === 0) return outs
  addon().swigluGrad(heapBytes(backend), describe(backend, [outs[0]!, outs[1]!, dy, gate, up], sizeOf(gate.shape)))
  return outs
}

export const nativeBiasRelu: tf.KernelFunc = (args) => {
  const { x, bias } = args.inputs as { x: tf.TensorInfo; bias: tf.TensorInfo }
  requireFloat("fused bias + relu", x, bias)
  const cols = x.shape[x.shape.length - 1]!
  if (sizeOf(bias.shape) !== cols)
    throw new Error(`fused bias + relu: bias [${bias.shape}] must have the last axis' size of x [${x.shape}]`)
  const backend = backendOf(args)
  const out = backend.makeOutput([...x.shape], "float32")
  if (sizeOf(x.shape) === 0) return out
  addon().biasRelu(heapBytes(backend), describe(backend, [out, x, bias], sizeOf(x.shape) / cols, cols))
  return out
}

export const nativeBiasReluGrad: tf.KernelFunc = (args) => {
  const { dy, y, bias } = args.inputs as { dy: tf.TensorInfo; y: tf.TensorInfo; bias: tf.TensorInfo }
  requireFloat("fused bias + relu gradient", dy, y)
  const cols = y.shape[y.shape.length - 1]!
  const backend = backendOf(args)
  const outs = [backend.makeOutput([...y.shape], "float32"), backend.makeOutput([...bias.shape], "float32")]
  addon().biasReluGrad(heapBytes(backend), describe(backend, [outs[0]!, outs[1]!, dy, y], sizeOf(y.shape) / cols, cols))
  return outs
}

// ---- gradients (global: tfjs keys them by kernel name) ------------------------------------------------------------

const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[]

tf.registerGradient({
  kernelName: LAYER_NORM_KERNEL,
  inputsToSave: ["x", "gain"],
  gradFunc: (dy, saved, attrs) => {
    const [x, gain] = saved as [tf.Tensor, tf.Tensor]
    const [dx, dgain, dbias] = run(
      NORM_GRAD_KERNEL,
      { dy: dy as tf.Tensor, x, gain },
      { eps: attrs.eps, kind: 0, bias: true }
    ) as tf.Tensor[]
    return { x: () => dx!, gain: () => dgain!, bias: () => dbias! }
  }
})

tf.registerGradient({
  kernelName: RMS_NORM_KERNEL,
  inputsToSave: ["x", "gain"],
  gradFunc: (dy, saved, attrs) => {
    const [x, gain] = saved as [tf.Tensor, tf.Tensor]
    const [dx, dgain] = run(NORM_GRAD_KERNEL, { dy: dy as tf.Tensor, x, gain }, { eps: attrs.eps, kind: 1, bias: false }) as tf.Tensor[]
    return { x: () => dx!, gain: () => dgain! }
  }
})

tf.registerGradient({
  kernelName: MASKED_SOFTMAX_KERNEL,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [p] = saved as [tf.Tensor]
    const dx = () => run(SOFTMAX_GRAD_KERNEL, { p, dy: dy as tf.Tensor }) as tf.Tensor
    // the mask is a constant in the models (never asked); its gradient: dx summed over the broadcast axes
    const cols = p.shape[p.shape.length - 1]!
    const rows = p.shape[p.shape.length - 2] ?? 1
    return { logits: dx, mask: () => tf.sum(tf.reshape(dx(), [-1, rows, cols]), 0) }
  }
})

tf.registerGradient({
  kernelName: CROSS_ENTROPY_KERNEL,
  inputsToSave: ["logits", "targets"],
  gradFunc: (dy, saved) => {
    const [logits, targets] = saved as [tf.Tensor, tf.Tensor]
    return {
      logits: () => run(CROSS_ENTROPY_GRAD_KERNEL, { dy: dy as tf.Tensor, logits, targets }) as tf.Tensor,
      targets: () => tf.zerosLike(targets)
    }
  }
})

tf.registerGradient({
  kernelName: SWIGLU_KERNEL,
  inputsToSave: ["gate", "up"],
  gradFunc: (dy, saved) => {
    const [gate, up] = saved as [tf.Tensor, tf.Tensor]
    const [dgate, dup] = run(SWIGLU_GRAD_KERNEL, { dy: dy as tf.Tensor, gate, up }) as tf.Tensor[]
    return { gate: () => dgate!, up: () => dup! }
  }
})

tf.registerGradient({
  kernelName: BIAS_RELU_KERNEL,
  inputsToSave: ["bias"],
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [bias, y] = saved as [tf.Tensor, tf.Tensor]
    const [dx, dbias] = run(BIAS_RELU_GRAD_KERNEL, { dy: dy as tf.Tensor, y, bias }) as tf.Tensor[]
    return { x: () => dx!, bias: () => dbias! }
  }
})

// ---- ops ---------------------------------------------------------------------------------------------------------

/** LayerNorm over the last axis; only where fusedOpsAvailable(). */
export const fusedLayerNorm = <T extends tf.Tensor>(x: T, gain: tf.Tensor, bias: tf.Tensor, eps: number): T =>
  run(LAYER_NORM_KERNEL, { x, gain, bias }, { eps }) as T

/** RMSNorm over the last axis; only where fusedOpsAvailable(). */
export const fusedRmsNorm = <T extends tf.Tensor>(x: T, gain: tf.Tensor, eps: number): T => run(RMS_NORM_KERNEL, { x, gain }, { eps }) as T

/** softmax(logits + mask) over the last axis, mask [rows, keys] for logits [..., rows, keys]; only where fusedOpsAvailable(). */
export const fusedMaskedSoftmax = <T extends tf.Tensor>(logits: T, mask: tf.Tensor2D): T =>
  run(MASKED_SOFTMAX_KERNEL, { logits, mask }) as T

/** Mean cross-entropy of logits [rows, classes] against int32 targets [rows]; only where fusedOpsAvailable(). */
export const fusedCrossEntropy = (logits: tf.Tensor2D, targets: tf.Tensor): tf.Scalar =>
  run(CROSS_ENTROPY_KERNEL, { logits, targets }) as tf.Scalar

/** silu(gate) * up (SwiGLU's inner activation); only where fusedOpsAvailable(). */
export const fusedSwiGLU = <T extends tf.Tensor>(gate: T, up: T): T => run(SWIGLU_KERNEL, { gate, up }) as T

/** relu(x + bias), bias [cols] over the last axis; only where fusedOpsAvailable(). */
export const fusedBiasRelu = <T extends tf.Tensor>(x: T, bias: tf.Tensor): T => run(BIAS_RELU_KERNEL, { x, bias }) as T
