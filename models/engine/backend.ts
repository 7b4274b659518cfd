/**
 * Picks and initialises the tfjs backend the harness computes on, and says what actually runs.
 *
 *   auto        native TensorFlow binding when it loads (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node),
 *               else WebGPU on a HARDWARE adapter (never a software one), else wasm
 *   tensorflow  the native binding, or an error that says how to get it
 *   webgpu      tfjs-backend-webgpu on Dawn (webgpu.ts): a hardware adapter when there is one, else a software one
 *               (Mesa llvmpipe: correct, slow; the engine record and the run's notes say so)
 *   wasm        tfjs-backend-wasm (XNNPACK), tuned by default: kernel overrides + threads (see
 *               kernels/override-table.ts and wasm-threads.ts; measurements in the README)
 *   cpu         tfjs-backend-cpu (pure JS, ~20x slower than tuned wasm; a reference for parity tests)
 *
 * PINNED: the wasm tuning relies on internals of tfjs 4.22.0 (pinned exactly in package.json).
 */
import * as os from "node:os"
import * as tf from "@tensorflow/tfjs"
import "@tensorflow/tfjs-backend-cpu"
import * as tfWasm from "@tensorflow/tfjs-backend-wasm"
import { setGemmThreads, setNativeGemm } from "./kernels/products.js"
import { installedOverrideLabels, installOverrides, restoreOverrides } from "./kernels/override-table.js"
import { nativeKernelsOf, setNativeKernels } from "./kernels/native.js"
import { loadNativeGemm, type NativeGemmInfo } from "./native-gemm.js"
import { withThreadedWasmShims } from "./wasm-threads.js"
import { describeAdapter, gpuDeviceNodes, startWebGpu, type WebGpuAdapterRecord } from "./webgpu.js"

export const BACKENDS = ["auto", "tensorflow", "webgpu", "wasm", "cpu"] as const
export type BackendRequest = (typeof BACKENDS)[number]

export interface EngineInfo {
  readonly requested: BackendRequest
  readonly backend: "tensorflow-gpu" | "tensorflow" | "webgpu" | "wasm" | "cpu" // what actually runs
  readonly tfjsVersion: string
  readonly backendVersion: string
  readonly threads: number
  readonly simd: boolean
  readonly kernelOverrides: ReadonlyArray<string> // e.g. ["BatchMatMul(simd gemm)", "UnsortedSegmentSum(js)"]
  readonly gpu: boolean
  readonly deterministic: boolean // bitwise-reproducible for same seed+threads (measured claim)
  /** Why the engine runs something other than what was asked (threads fallback, auto fallback), if it does. */
  readonly notes?: ReadonlyArray<string>
  /** webgpu only: the adapter Dawn opened (hardware or software) and the Dawn bindings' version */
  readonly webgpu?: { readonly adapter: WebGpuAdapterRecord; readonly dawn: string }
  /** tuned wasm only: the native library the matrix products ran on (native-gemm.ts); absent: the WebAssembly GEMM */
  readonly native?: NativeGemmInfo
}

export interface EngineOptions {
  readonly backend: BackendRequest
  /** wasm threads (XNNPACK pthreadpool); default: defaultThreads(). Ignored by other backends. */
  readonly threads?: number
  /** wasm only: install the kernel overrides (default true). false = stock tfjs-backend-wasm (+ the missing
   * UnsortedSegmentSum kernel, without which a gather embedding cannot train at all, and the OneHot dtype fix). */
  readonly tuned?: boolean
  /** tuned wasm only: run the matrix products on the native library (oneDNN, native-gemm.ts) when its addon loads
   * (default true); false = the WebAssembly SIMD GEMM. */
  readonly native?: boolean
}

const TFJS_VERSION = "4.22.0"
const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const

export const tensorflowNotInstalledMessage = (errors: ReadonlyArray<string>): string =>
  [
    "The native TensorFlow backend is not installed: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads" +
      (errors.length > 0 ? ` (${errors.join("; ")}).` : "."),
    "Why: they are optional dependencies whose install script downloads libtensorflow 2.9.1 from the internet;",
    "without network access the install is skipped silently (no npm or Debian package ships libtensorflow).",
    "Fix: with internet access, `npm i @tensorflow/tfjs-node-gpu@4.22.0` (needs CUDA 11.2 and cuDNN 8.1) or",
    "`npm i @tensorflow/tfjs-node@4.22.0` (CPU); or use `--backend wasm` (the tuned wasm engine, no install)."
  ].join(" ")

interface NativeLoad {
  readonly name: (typeof NATIVE_PACKAGES)[number]
  readonly version: string
}
let nativeLoaded: NativeLoad | null = null

/** Dynamic import of the native bindings (they are optionalDependencies and usually absent). */
export const loadNative = async (): Promise<{ loaded: NativeLoad | null; errors: string[] }> => {
  if (nativeLoaded !== null) return { loaded: nativeLoaded, errors: [] }
  const errors: string[] = []
  for (const name of NATIVE_PACKAGES) {
    try {
      const specifier: string = name // a variable, so TypeScript does not require the absent package's types
      const mod: any = await import(specifier)
      const version = String(mod?.version?.["tfjs-node"] ?? mod?.version_node ?? TFJS_VERSION)
      nativeLoaded = { name, version }
      return { loaded: nativeLoaded, errors }
    } catch (e) {
      errors.push(`${name}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`)
    }
  }
  return { loaded: null, errors }
}

/**
 * Default wasm threads: 1 on machines with 2 cores or fewer, else half the cores (at most 4).
 * Why: XNNPACK's pool synchronises on every product (~1,000 per training step); when the cores are shared and
 * one pool thread is descheduled, the other waits: on a busy 2-core machine 2 threads were about 3x slower than 1,
 * on an idle one slightly faster (docs/engine-measurements.md).
 * Results do not depend on this choice: 1 and 2 threads give bitwise-identical losses (test/models/engine).
 */
export const defaultThreads = (): number => {
  const cores = os.availableParallelism()
  return cores <= 2 ? 1 : Math.min(4, Math.floor(cores / 2))
}

/**
 * The live wasm backend (null: not created yet): its binary's thread count and XNNPACK's pool size. Tuned,
 * XNNPACK gets one thread and the SIMD GEMM (wasm-gemm.ts) the rest, which ran faster than XNNPACK on 2 threads
 * (its pool thread and the GEMM helper fight over the second core; docs/engine-measurements.md). Stock: XNNPACK
 * gets them all.
 */
let wasmThreadsLive: { threads: number; xnnpack: number } | null = null

/** Drops the wasm backend instance so that the next setBackend re-creates it (thread count change). */
const resetWasmBackend = (): void => {
  const engine = tf.engine() as unknown as { registryFactory: Record<string, { factory: () => any; priority: number }> }
  const entry = engine.registryFactory["wasm"]
  if (entry === undefined) throw new Error("wasm backend not registered: import '@tensorflow/tfjs-backend-wasm' failed?")
  tf.removeBackend("wasm") // disposes the instance (and its tensors) and the factory entry
  tf.registerBackend("wasm", entry.factory, entry.priority)
  wasmThreadsLive = null
}

const withTimeout = <A>(p: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e))
    )
  })

const startWasm = async (threads: number, xnnpack: number): Promise<void> => {
  if (threads > 1) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true)
    tfWasm.setThreadsCount(xnnpack)
    const ok = await withThreadedWasmShims(xnnpack, () => withTimeout(tf.setBackend("wasm"), 60_000, "threaded wasm init"))
    if (!ok) throw new Error("tf.setBackend('wasm') returned false for the threaded build")
  } else {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false)
    tfWasm.setThreadsCount(1)
    const ok = await tf.setBackend("wasm")
    if (!ok) throw new Error("tf.setBackend('wasm') returned false: the .wasm binary did not load")
  }
  await tf.ready()
  wasmThreadsLive = { threads, xnnpack }
}

const initWasm = async (requested: BackendRequest, threadsWanted: number, tuned: boolean, nativeWanted = true): Promise<EngineInfo> => {
  const notes: string[] = []
  const xnnpackWanted = tuned ? 1 : threadsWanted
  if (wasmThreadsLive !== null && (wasmThreadsLive.threads !== threadsWanted || wasmThreadsLive.xnnpack !== xnnpackWanted))
    resetWasmBackend()
  if (wasmThreadsLive === null) {
    try {
      await startWasm(threadsWanted, xnnpackWanted)
    } catch (e) {
      if (threadsWanted === 1) throw e
      notes.push(`wasm with ${threadsWanted} threads failed (${e instanceof Error ? e.message : String(e)}); fell back to 1 thread`)
      resetWasmBackend()
      await startWasm(1, 1)
    }
  } else {
    await tf.setBackend("wasm")
    await tf.ready()
  }
  // UnsortedSegmentSum (without it a gather embedding cannot train) and the OneHot dtype fix, in stock mode too
  installOverrides("always")
  if (tuned) installOverrides("tuned")
  else restoreOverrides("tuned")
  const live = wasmThreadsLive as { threads: number; xnnpack: number } | null
  const threads = live?.threads ?? 1
  setGemmThreads(threads)
  const native = tuned && nativeWanted ? loadNativeGemm() : null
  setNativeGemm(native?.ok === true ? native : null, threads)
  if (native !== null && !native.ok)
    notes.push(`native kernels not in use (${native.reason}): the matrix products run on the WebAssembly GEMM`)
  // The C kernels (kernels/native.ts) ride on the same switch as the native products: one `native` decides both.
  const kernels = native?.ok === true ? nativeKernelsOf(native.addon) : null
  setNativeKernels(kernels)
  if (kernels !== null) installOverrides("native")
  else restoreOverrides("native")
  if (native?.ok === true && kernels === null)
    notes.push("the native addon predates its elementwise kernels (rebuild with `npm run build:native`): they run on wasm")
  const xnnpackThreads = tfWasm.getThreadsCount()
  if (xnnpackThreads !== (live?.xnnpack ?? 1)) notes.push(`asked for ${live?.xnnpack ?? 1} XNNPACK threads, XNNPACK runs ${xnnpackThreads}`)
  if (tuned && threads > 1)
    notes.push(
      `${threads} threads run the matrix products (${native?.ok === true ? `${native.info.library}'s pool` : "SIMD GEMM"}); XNNPACK (elementwise kernels) runs on ${xnnpackThreads}`
    )
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"))
  return {
    requested,
    backend: "wasm",
    tfjsVersion: tf.version_core,
    backendVersion: tfWasm.version_wasm,
    threads,
    simd,
    kernelOverrides: installedOverrideLabels(),
    gpu: false,
    // Measured: same seed + same threads gives bitwise-identical loss sequences (test/models/engine), on the
    // WebAssembly GEMM and on the native one (for a fixed library, CPU kernel and thread count).
    deterministic: true,
    ...(native?.ok === true ? { native: native.info } : {}),
    ...(notes.length > 0 ? { notes } : {})
  }
}

const initNative = async (requested: BackendRequest, native: NativeLoad, notes: string[]): Promise<EngineInfo> => {
  const ok = await tf.setBackend("tensorflow")
  if (!ok) throw new Error(`${native.name} loaded but tf.setBackend("tensorflow") failed: check libtensorflow / CUDA install`)
  await tf.ready()
  const gpu = native.name === "@tensorflow/tfjs-node-gpu"
  return {
    requested,
    backend: gpu ? "tensorflow-gpu" : "tensorflow",
    tfjsVersion: tf.version_core,
    backendVersion: native.version,
    threads: os.availableParallelism(),
    simd: false,
    kernelOverrides: [],
    gpu,
    // Not measured; TensorFlow's threaded reductions (and cuDNN) are not bitwise reproducible by default.
    deterministic: false,
    ...(notes.length > 0 ? { notes } : {})
  }
}

/**
 * WebGPU on Dawn. `allowSoftware` false (auto): null when only a software adapter exists, so auto moves on.
 * Reproducibility is recorded as within a tolerance: GPU reductions may be scheduled differently between runs,
 * and bitwise reruns have not been shown on any adapter.
 */
const initWebGpu = async (requested: BackendRequest, allowSoftware: boolean, notes: string[]): Promise<EngineInfo | null> => {
  const started = await startWebGpu(tf, allowSoftware)
  if (started === null) return null
  const { adapter } = started
  const all = [...notes]
  if (adapter.software) {
    all.push(
      `SOFTWARE WebGPU adapter (${adapter.device || adapter.description}): a CPU rasteriser, correct but slow; for tests, not for training`
    )
  }
  return {
    requested,
    backend: "webgpu",
    tfjsVersion: tf.version_core,
    backendVersion: started.backendVersion,
    threads: 1,
    simd: false,
    kernelOverrides: [],
    gpu: !adapter.software,
    deterministic: false,
    webgpu: { adapter, dawn: started.dawn },
    ...(all.length > 0 ? { notes: all } : {})
  }
}

/**
 * Initialises the engine. May be called again in the same process to switch backend, threads or tuning.
 * Changing the wasm thread count re-creates the wasm backend (a different .wasm binary): tensors and variables
 * that live on wasm at that moment are lost, so call initEngine before building models.
 */
export const initEngine = async (options: EngineOptions): Promise<EngineInfo> => {
  const requested = options.backend
  if (!(BACKENDS as ReadonlyArray<string>).includes(requested)) {
    throw new Error(`Unknown backend "${String(requested)}": use one of ${BACKENDS.join(", ")}.`)
  }
  const threads = options.threads ?? defaultThreads()
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`threads must be a positive integer, got ${threads}: pass e.g. --threads 2.`)
  }
  const tuned = options.tuned ?? true
  // PROD only gates tfjs's console warnings (tfjs-core 4.22.0: backend_util.warn / log); without it the cpu backend
  // prints a "you are running TensorFlow.js in Node.js" banner to stdout, which corrupts `--json` output.
  tf.env().set("PROD", true)
  switch (requested) {
    case "cpu": {
      await tf.setBackend("cpu")
      await tf.ready()
      return {
        requested,
        backend: "cpu",
        tfjsVersion: tf.version_core,
        backendVersion: TFJS_VERSION,
        threads: 1,
        simd: false,
        kernelOverrides: [],
        gpu: false,
        deterministic: true // single-threaded JS, fixed evaluation order
      }
    }
    case "wasm":
      return initWasm(requested, threads, tuned, options.native)
    case "webgpu": {
      const info = await initWebGpu(requested, true, [])
      if (info === null) throw new Error("WebGPU found no adapter") // unreachable: allowSoftware throws with the reason instead
      return info
    }
    case "tensorflow": {
      const { loaded, errors } = await loadNative()
      if (loaded === null) throw new Error(tensorflowNotInstalledMessage(errors))
      return initNative(requested, loaded, [])
    }
    case "auto": {
      const { loaded, errors } = await loadNative()
      if (loaded !== null) return initNative(requested, loaded, [])
      const why = [`native TensorFlow not installed (${errors.length} packages tried)`]
      // Dawn is loaded only where a GPU device node exists: a CPU machine's default run stays as fast and quiet as before
      const nodes = gpuDeviceNodes()
      if (nodes.length > 0) {
        try {
          const gpu = await initWebGpu(requested, false, why)
          if (gpu !== null) return gpu
          why.push("WebGPU found only a software adapter (auto never picks one; --backend webgpu does)")
        } catch (e) {
          why.push(`WebGPU did not start (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`)
        }
      } else {
        why.push("no GPU device node (/dev/nvidia*, /dev/dri/renderD*): WebGPU not tried")
      }
      const info = await initWasm(requested, threads, tuned, options.native)
      return { ...info, notes: [`${why.join("; ")}; using wasm`, ...(info.notes ?? [])] }
    }
  }
}

/** One line for logs: `engine wasm (tuned: BatchMatMul(simd gemm)+...) 2 threads simd tfjs 4.22.0 deterministic`. */
export const describeEngine = (info: EngineInfo): string => {
  const parts = [
    `engine ${info.backend}${info.requested !== info.backend ? ` (requested ${info.requested})` : ""}`,
    `tfjs ${info.tfjsVersion}`,
    `backend ${info.backendVersion}`,
    `${info.threads} thread${info.threads === 1 ? "" : "s"}`,
    info.simd ? "simd" : "no-simd",
    info.gpu ? "gpu" : "no-gpu",
    `kernels [${info.kernelOverrides.join(", ") || "stock"}]`,
    ...(info.webgpu ? [`adapter ${describeAdapter(info.webgpu.adapter)}`, info.webgpu.dawn] : []),
    info.deterministic ? "deterministic" : "not-deterministic"
  ]
  return parts.join(" | ") + (info.notes && info.notes.length > 0 ? ` | notes: ${info.notes.join("; ")}` : "")
}
