/**
 * The one table of this engine's wasm kernels: which tfjs kernel each replaces or adds, the label the engine record
 * gives it, and the set it belongs to; installing and restoring them.
 *
 *   set "always"  installed on every wasm engine, stock included: kernels wasm lacks or gets wrong
 *                 (UnsortedSegmentSum, OneHot)
 *   set "tuned"   the tuned engine's kernels (speed), removed again for stock measurements and parity baselines
 *   set "native"  the tuned engine's kernels in C (native.ts), installed with the native products (native-gemm.ts);
 *                 Sum, Transpose, UnsortedSegmentSum and FusedAdamW already have an entry here, so theirs run the C
 *                 kernel from that entry while the C kernels are loaded (setNativeKernels) and are labelled so
 *
 *   how "replace" the stock kernel is saved (stock-kernels.ts: restore puts it back, delegate hands it cases)
 *       "add"     tfjs has no such kernel: registered only when none is, unregistered on restore
 *
 * The engine record lists the labels of the installed kernels in table order, each label once (Slice, SplitV and
 * Concat share one); results recorded with a label set are reproducible on that set. A new kernel goes in OVERRIDES.
 */
import * as tf from "@tensorflow/tfjs"
import {
  castShared,
  CAST_OVERRIDE,
  concatRows,
  gatherRows,
  GATHER_OVERRIDE,
  identityShared,
  IDENTITY_OVERRIDE,
  sliceRows,
  SLICE_OVERRIDE,
  splitVRows,
  transposeMatrixSwaps,
  TRANSPOSE_OVERRIDE
} from "./copies.js"
import {
  BIAS_RELU_GRAD_KERNEL,
  BIAS_RELU_KERNEL,
  CROSS_ENTROPY_GRAD_KERNEL,
  CROSS_ENTROPY_KERNEL,
  LAYER_NORM_KERNEL,
  MASKED_SOFTMAX_KERNEL,
  NORM_GRAD_KERNEL,
  nativeBiasRelu,
  nativeBiasReluGrad,
  nativeCrossEntropy,
  nativeCrossEntropyGrad,
  nativeFusedLabel,
  nativeLayerNorm,
  nativeMaskedSoftmax,
  nativeNormGrad,
  nativeRmsNorm,
  nativeSoftmaxGrad,
  RMS_NORM_KERNEL,
  nativeSwiGLU,
  nativeSwiGLUGrad,
  SOFTMAX_GRAD_KERNEL,
  SWIGLU_GRAD_KERNEL,
  SWIGLU_KERNEL
} from "./fused.js"
import { fusedAdamW, FUSED_ADAMW_KERNEL, FUSED_ADAMW_KERNEL_NAME } from "./fused-adamw.js"
import { ONE_HOT_KERNEL, oneHotHonouringDtype } from "./one-hot.js"
import { batchMatMulLabel, batchMatMulOnGemm } from "./products.js"
import { SEGMENT_SUM_KERNEL, SUM_OVERRIDE, sumLeadingAxes, unsortedSegmentSum } from "./reductions.js"
import { saveStockKernel, stockKernel } from "./stock-kernels.js"
import {
  nativeAdamWLabel,
  nativeAdamWOr,
  nativeAdd,
  nativeBinaryLabel,
  nativeExp,
  nativeKernelsInUse,
  nativeMax,
  nativeMean,
  nativeMultiply,
  nativeNeg,
  nativeRealDiv,
  nativeReductionLabel,
  nativeRelu,
  nativeRsqrt,
  nativeSegmentSumLabel,
  nativeSegmentSumOr,
  nativeSoftmax,
  nativeSoftmaxLabel,
  nativeSqrt,
  nativeSquare,
  nativeStep,
  nativeSub,
  nativeSumOr,
  nativeTransposeLabel,
  nativeTransposeOr,
  nativeUnaryLabel
} from "./native.js"

export type OverrideSet = "always" | "tuned" | "native"

/** The label of a kernel that runs C while the native kernels are loaded, and its own kernel otherwise. */
const nativeOr = (nativeLabel: () => string, own: string) => (): string => (nativeKernelsInUse() !== null ? nativeLabel() : own)

export interface KernelOverride {
  /** the tfjs kernel name registered on "wasm" */
  readonly kernelName: string
  readonly kernelFunc: tf.KernelFunc
  /** what the engine record names (BatchMatMul's depends on the GEMM in use: a function) */
  readonly label: string | (() => string)
  readonly set: OverrideSet
  readonly how: "replace" | "add"
}

export const OVERRIDES: ReadonlyArray<KernelOverride> = [
  { kernelName: "BatchMatMul", kernelFunc: batchMatMulOnGemm, label: batchMatMulLabel, set: "tuned", how: "replace" },
  {
    kernelName: "Sum",
    kernelFunc: nativeSumOr(sumLeadingAxes),
    label: nativeOr(nativeReductionLabel, SUM_OVERRIDE),
    set: "tuned",
    how: "replace"
  },
  { kernelName: "GatherV2", kernelFunc: gatherRows, label: GATHER_OVERRIDE, set: "tuned", how: "replace" },
  { kernelName: "Identity", kernelFunc: identityShared, label: IDENTITY_OVERRIDE, set: "tuned", how: "replace" },
  {
    kernelName: "Transpose",
    kernelFunc: nativeTransposeOr(transposeMatrixSwaps),
    label: nativeOr(nativeTransposeLabel, TRANSPOSE_OVERRIDE),
    set: "tuned",
    how: "replace"
  },
  { kernelName: "Cast", kernelFunc: castShared, label: CAST_OVERRIDE, set: "tuned", how: "replace" },
  { kernelName: "Slice", kernelFunc: sliceRows, label: SLICE_OVERRIDE, set: "tuned", how: "replace" },
  { kernelName: "SplitV", kernelFunc: splitVRows, label: SLICE_OVERRIDE, set: "tuned", how: "replace" },
  { kernelName: "Concat", kernelFunc: concatRows, label: SLICE_OVERRIDE, set: "tuned", how: "replace" },
  {
    kernelName: "UnsortedSegmentSum",
    kernelFunc: nativeSegmentSumOr(unsortedSegmentSum),
    label: nativeOr(nativeSegmentSumLabel, SEGMENT_SUM_KERNEL),
    set: "always",
    how: "add"
  },
  { kernelName: "OneHot", kernelFunc: oneHotHonouringDtype, label: ONE_HOT_KERNEL, set: "always", how: "replace" },
  {
    kernelName: FUSED_ADAMW_KERNEL_NAME,
    kernelFunc: nativeAdamWOr(fusedAdamW),
    label: nativeOr(nativeAdamWLabel, FUSED_ADAMW_KERNEL),
    set: "tuned",
    how: "add"
  },
  { kernelName: "Add", kernelFunc: nativeAdd, label: nativeBinaryLabel, set: "native", how: "replace" },
  { kernelName: "Sub", kernelFunc: nativeSub, label: nativeBinaryLabel, set: "native", how: "replace" },
  { kernelName: "Multiply", kernelFunc: nativeMultiply, label: nativeBinaryLabel, set: "native", how: "replace" },
  { kernelName: "RealDiv", kernelFunc: nativeRealDiv, label: nativeBinaryLabel, set: "native", how: "replace" },
  { kernelName: "Neg", kernelFunc: nativeNeg, label: nativeUnaryLabel, set: "native", how: "replace" },
  { kernelName: "Relu", kernelFunc: nativeRelu, label: nativeUnaryLabel, set: "native", how: "replace" },
  { kernelName: "Square", kernelFunc: nativeSquare, label: nativeUnaryLabel, set: "native", how: "replace" },
  { kernelName: "Sqrt", kernelFunc: nativeSqrt, label: nativeUnaryLabel, set: "native", how: "replace" },
  { kernelName: "Rsqrt", kernelFunc: nativeRsqrt, label: nativeUnaryLabel, set: "native", how: "replace" },
  { kernelName: "Exp", kernelFunc: nativeExp, label: nativeUnaryLabel, set: "native", how: "replace" },
  { kernelName: "Step", kernelFunc: nativeStep, label: nativeUnaryLabel, set: "native", how: "replace" },
  { kernelName: "Mean", kernelFunc: nativeMean, label: nativeReductionLabel, set: "native", how: "replace" },
  { kernelName: "Max", kernelFunc: nativeMax, label: nativeReductionLabel, set: "native", how: "replace" },
  { kernelName: "Softmax", kernelFunc: nativeSoftmax, label: nativeSoftmaxLabel, set: "native", how: "replace" },
  // fused ops (fused.ts): kernels of their own names, which the models call only where these are registered
  { kernelName: LAYER_NORM_KERNEL, kernelFunc: nativeLayerNorm, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: RMS_NORM_KERNEL, kernelFunc: nativeRmsNorm, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: NORM_GRAD_KERNEL, kernelFunc: nativeNormGrad, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: MASKED_SOFTMAX_KERNEL, kernelFunc: nativeMaskedSoftmax, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: SOFTMAX_GRAD_KERNEL, kernelFunc: nativeSoftmaxGrad, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: CROSS_ENTROPY_KERNEL, kernelFunc: nativeCrossEntropy, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: CROSS_ENTROPY_GRAD_KERNEL, kernelFunc: nativeCrossEntropyGrad, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: SWIGLU_KERNEL, kernelFunc: nativeSwiGLU, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: SWIGLU_GRAD_KERNEL, kernelFunc: nativeSwiGLUGrad, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: BIAS_RELU_KERNEL, kernelFunc: nativeBiasRelu, label: nativeFusedLabel, set: "native", how: "add" },
  { kernelName: BIAS_RELU_GRAD_KERNEL, kernelFunc: nativeBiasReluGrad, label: nativeFusedLabel, set: "native", how: "add" }
]

const entry = (kernelName: string): KernelOverride => {
  const found = OVERRIDES.find((o) => o.kernelName === kernelName)
  if (found === undefined) throw new Error(`no wasm kernel override for ${kernelName}`)
  return found
}

const install = (o: KernelOverride): void => {
  const current = tf.getKernel(o.kernelName, "wasm")
  if (current?.kernelFunc === o.kernelFunc) return
  if (current !== undefined) {
    if (o.how === "add") return // tfjs has one after all: keep it
    saveStockKernel(o.kernelName, current)
    tf.unregisterKernel(o.kernelName, "wasm")
  }
  tf.registerKernel({ kernelName: o.kernelName, backendName: "wasm", kernelFunc: o.kernelFunc })
}

const restore = (o: KernelOverride): void => {
  if (tf.getKernel(o.kernelName, "wasm")?.kernelFunc !== o.kernelFunc) return
  if (o.how === "add") {
    tf.unregisterKernel(o.kernelName, "wasm")
    return
  }
  const stock = stockKernel(o.kernelName)
  if (stock === undefined) return
  tf.unregisterKernel(o.kernelName, "wasm")
  tf.registerKernel(stock)
  // The stock setupFunc cwraps against one backend instance and only runs when a backend initialises: run it
  // for the live instance, which may have been re-created (thread change) while the stock kernel was out.
  const live = tf.findBackend("wasm")
  if (live != null) stock.setupFunc?.(live)
}

/** Installs every kernel of `set` (idempotent). */
export const installOverrides = (set: OverrideSet): void => {
  for (const o of OVERRIDES) if (o.set === set) install(o)
}
/** Puts the stock kernels of `set` back and removes its additions (for "wasm stock" measurements and parity baselines). */
export const restoreOverrides = (set: OverrideSet): void => {
  for (const o of OVERRIDES) if (o.set === set) restore(o)
}
/** Installs one kernel of the table, by tfjs kernel name (tests that compare it with the stock path). */
export const installOverride = (kernelName: string): void => install(entry(kernelName))
/** Restores one kernel of the table, by tfjs kernel name. */
export const restoreOverride = (kernelName: string): void => restore(entry(kernelName))

/** Whether this table's kernel for `kernelName` is the one registered on wasm. */
export const isOverrideInstalled = (kernelName: string): boolean =>
  tf.getKernel(kernelName, "wasm")?.kernelFunc === entry(kernelName).kernelFunc

/** The labels of the installed kernels, in table order, each once (and only when every kernel sharing it is
 * installed): what the engine record lists. */
export const installedOverrideLabels = (): string[] => {
  const labelled = OVERRIDES.map((o) => ({
    label: typeof o.label === "string" ? o.label : o.label(),
    installed: isOverrideInstalled(o.kernelName)
  }))
  const labels = [...new Set(labelled.map((o) => o.label))]
  return labels.filter((label) => labelled.every((o) => o.label !== label || o.installed))
}
