/**
 * The stock wasm kernels the overrides replaced (saved by override-table.ts), and `delegate`, through which an
 * override hands the cases it does not cover (other dtypes, axes, permutations) to the stock kernel.
 */
import type * as tf from "@tensorflow/tfjs"

const stockKernels = new Map<string, tf.KernelConfig>()

/** Keeps the stock kernel registered under `name` (before an override replaces it). */
export const saveStockKernel = (name: string, config: tf.KernelConfig): void => {
  stockKernels.set(name, config)
}
/** The stock kernel saved for `name`, if an override replaced one. */
export const stockKernel = (name: string): tf.KernelConfig | undefined => stockKernels.get(name)

/** Backends each stock kernel's setupFunc ran for. A stock kernel cwraps its C function in setupFunc, which the
 * engine only runs for *registered* kernels when a backend initialises; after a wasm backend is re-created
 * (thread change) while the override is registered, the stock function would still point into the old module. */
const stockSetupDone = new Map<string, WeakSet<object>>()

/** Runs the stock kernel `name` on these arguments (setting it up for this backend instance first). */
export const delegate = (name: string, args: Parameters<tf.KernelFunc>[0]) => {
  const stock = stockKernels.get(name)
  if (stock === undefined) throw new Error(`${name}: the stock wasm kernel was not saved before the override`)
  let done = stockSetupDone.get(name)
  if (done === undefined) stockSetupDone.set(name, (done = new WeakSet()))
  if (!done.has(args.backend)) {
    stock.setupFunc?.(args.backend)
    done.add(args.backend)
  }
  return stock.kernelFunc(args)
}
