/**
 * WebGPU through Dawn's Node bindings (the npm package `webgpu`, which ships a prebuilt dawn.node): finding the
 * adapters Dawn can open, telling hardware from software ones, and starting tfjs-backend-webgpu on the chosen one.
 *
 * Dawn reaches a GPU through Vulkan (or OpenGL / OpenGL ES). On a machine without a GPU, Mesa's llvmpipe gives a
 * software adapter through OpenGL: correct but slow, good for parity tests. It needs EGL's surfaceless platform
 * (no display) and the "compatibility" feature level (WebGPU core needs more than GL offers).
 *
 * Node 20 has no `navigator`, and tfjs-backend-webgpu registers its backend only when `navigator.gpu` exists at
 * import time and then asks `navigator.gpu.requestAdapter()` without a feature level. So the chosen adapter is
 * published as `navigator.gpu` before the (lazy) import, with a requestAdapter that returns that adapter.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { createRequire } from "node:module"

/** Dawn backends tried, in order of preference for a hardware adapter. */
export const DAWN_BACKENDS = ["vulkan", "opengl", "opengles"] as const
export type DawnBackend = (typeof DAWN_BACKENDS)[number]

export interface WebGpuAdapterRecord {
  readonly dawnBackend: DawnBackend
  /** "core" WebGPU, or "compatibility" (the subset that OpenGL ES 3.1 can do) */
  readonly featureLevel: "core" | "compatibility"
  readonly vendor: string
  readonly architecture: string
  readonly device: string
  readonly description: string
  /** a CPU rasteriser (llvmpipe, lavapipe, SwiftShader) rather than a GPU */
  readonly software: boolean
  /** largest single buffer, bytes */
  readonly maxBufferSize: number
  /** largest buffer one shader binds as storage, bytes: every tfjs tensor is one such binding */
  readonly maxStorageBufferBindingSize: number
}

export interface WebGpuProbe {
  /** `webgpu <version> (dawn.node)`, or null when the package does not load */
  readonly dawn: string | null
  readonly adapters: ReadonlyArray<WebGpuAdapterRecord>
  /** per Dawn backend without an adapter, and load failures: why */
  readonly problems: ReadonlyArray<string>
}

/** Names of CPU rasterisers that present themselves as adapters. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i

export const isSoftwareAdapter = (
  info: { vendor: string; architecture: string; device: string; description: string },
  fallback: boolean
): boolean => fallback || SOFTWARE_NAMES.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`)

/** One line: `llvmpipe-llvm-15-0-6-256-bits- (OpenGL version 4.5 ...) via opengl, compatibility, software, binding 128 MiB`. */
export const describeAdapter = (a: WebGpuAdapterRecord): string =>
  `${[a.vendor, a.architecture, a.device].filter((s) => s !== "").join(" ") || "(unnamed)"} (${a.description}) via ${a.dawnBackend}, ` +
  `${a.featureLevel}, ${a.software ? "SOFTWARE" : "hardware"}, maxBufferSize ${mib(a.maxBufferSize)}, ` +
  `maxStorageBufferBindingSize ${mib(a.maxStorageBufferBindingSize)}`

const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`

type Gpu = { requestAdapter(options?: Record<string, unknown>): Promise<GpuAdapter | null> }
type GpuAdapter = {
  readonly info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean }
  readonly isFallbackAdapter?: boolean
  readonly limits: { maxBufferSize: number; maxStorageBufferBindingSize: number }
  readonly features: ReadonlySet<string>
  requestDevice(descriptor?: unknown): Promise<unknown>
}
type DawnModule = { create(options: string[]): Gpu; globals: Record<string, unknown> }

let dawnModule: { mod: DawnModule; version: string } | null = null

const webgpuPackageVersion = (): string => {
  const require = createRequire(import.meta.url)
  try {
    return String((require("webgpu/package.json") as { version: string }).version)
  } catch {
    return "unknown"
  }
}

/** Loads dawn.node once. Sets EGL_PLATFORM=surfaceless when unset: without a display, EGL does not initialise. */
const loadDawn = async (): Promise<{ mod: DawnModule; version: string }> => {
  if (dawnModule !== null) return dawnModule
  process.env.EGL_PLATFORM ??= "surfaceless"
  const specifier: string = "webgpu"
  const mod = (await import(specifier)) as DawnModule
  Object.assign(globalThis, mod.globals) // GPUBufferUsage, GPUShaderStage, ... that tfjs-backend-webgpu reads as globals
  dawnModule = { mod, version: webgpuPackageVersion() }
  return dawnModule
}

interface OpenAdapter {
  readonly record: WebGpuAdapterRecord
  readonly gpu: Gpu
}
let probed: { probe: WebGpuProbe; open: ReadonlyArray<OpenAdapter> } | null = null

/**
 * Every adapter Dawn finds, one per Dawn backend (core feature level first, else compatibility). Cached: Dawn
 * instances are process-wide, and a second probe would find the same. Never throws: failures are `problems`.
 */
export const probeWebGpu = async (): Promise<WebGpuProbe> => (await probeOpen()).probe

const probeOpen = async (): Promise<{ probe: WebGpuProbe; open: ReadonlyArray<OpenAdapter> }> => {
  if (probed !== null) return probed
  let dawn: { mod: DawnModule; version: string }
  try {
    dawn = await loadDawn()
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e)
    return (probed = {
      probe: {
        dawn: null,
        adapters: [],
        problems: [`the npm package webgpu (dawn.node) does not load: ${why}. Fix: npm ci (it is a dependency)`]
      },
      open: []
    })
  }
  const open: OpenAdapter[] = []
  const problems: string[] = []
  for (const backend of DAWN_BACKENDS) {
    try {
      const gpu = dawn.mod.create([`backend=${backend}`])
      let found: OpenAdapter | null = null
      for (const featureLevel of ["core", "compatibility"] as const) {
        const adapter = await gpu.requestAdapter({ featureLevel, powerPreference: "high-performance" })
        if (adapter === null) continue
        const i = adapter.info
        const fallback = Boolean(adapter.isFallbackAdapter ?? i.isFallbackAdapter)
        found = {
          gpu,
          record: {
            dawnBackend: backend,
            featureLevel,
            vendor: i.vendor,
            architecture: i.architecture,
            device: i.device,
            description: i.description,
            software: isSoftwareAdapter(i, fallback),
            maxBufferSize: adapter.limits.maxBufferSize,
            maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize
          }
        }
        break
      }
      if (found !== null) open.push(found)
      else problems.push(`${backend}: no adapter (${backendHint(backend)})`)
    } catch (e) {
      problems.push(`${backend}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`)
    }
  }
  return (probed = { probe: { dawn: `webgpu ${dawn.version} (dawn.node)`, adapters: open.map((o) => o.record), problems }, open })
}

/** What a Dawn backend needs from the system, checked cheaply, for "why no adapter". */
export const backendHint = (backend: DawnBackend): string => {
  if (backend === "vulkan") {
    if (!hasSharedLibrary("libvulkan.so.1")) return "libvulkan.so.1 is missing: Debian libvulkan1 plus the GPU driver's Vulkan ICD"
    const icds = vulkanIcdFiles()
    return icds.length === 0
      ? "no Vulkan ICD JSON in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d (set VK_DRIVER_FILES to the driver's)"
      : `Vulkan ICDs ${icds.join(", ")}; Dawn rejected them (it prints why on stderr)`
  }
  if (!hasSharedLibrary("libEGL.so.1")) return "libEGL.so.1 is missing: Debian libegl1 libegl-mesa0 libgl1-mesa-dri libgles2"
  return `EGL is present (EGL_PLATFORM=${process.env.EGL_PLATFORM ?? "unset"}); Dawn found no ${backend === "opengl" ? "OpenGL 4.x" : "OpenGL ES 3.1"} context`
}

let ldconfigCache: string | null = null
/** Whether the dynamic loader knows this library (`ldconfig -p`), as dlopen would find it. */
export const hasSharedLibrary = (name: string): boolean => {
  if (ldconfigCache === null) {
    try {
      ldconfigCache = execFileSync("ldconfig", ["-p"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
    } catch {
      ldconfigCache = ""
    }
  }
  if (ldconfigCache.includes(name)) return true
  const dirs = (process.env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d !== "")
  return dirs.some((d) => existsSync(`${d}/${name}`))
}

/** Vulkan ICD manifests the loader would read (VK_DRIVER_FILES / VK_ICD_FILENAMES override the standard folders). */
export const vulkanIcdFiles = (): string[] => {
  const explicit = process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES
  if (explicit !== undefined && explicit !== "") return explicit.split(":")
  const dirs = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"]
  return dirs.flatMap((d) =>
    existsSync(d)
      ? readdirSync(d)
          .filter((f) => f.endsWith(".json"))
          .map((f) => `${d}/${f}`)
      : []
  )
}

/**
 * A hint that a GPU exists at all, without loading Dawn: an NVIDIA or DRM render node, or VK_DRIVER_FILES set.
 * `auto` probes WebGPU only then, so that a CPU machine's default run neither pays for loading Dawn nor prints
 * its warnings.
 */
export const gpuDeviceNodes = (): string[] => {
  const nodes: string[] = []
  if (existsSync("/dev")) for (const f of readdirSync("/dev")) if (/^nvidia\d+$/.test(f)) nodes.push(`/dev/${f}`)
  if (existsSync("/dev/dri")) for (const f of readdirSync("/dev/dri")) if (f.startsWith("renderD")) nodes.push(`/dev/dri/${f}`)
  if (process.env.VK_DRIVER_FILES) nodes.push(`VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES}`)
  return nodes
}

export interface WebGpuStart {
  readonly adapter: WebGpuAdapterRecord
  readonly dawn: string
  readonly backendVersion: string
}

/** The adapter to use: the first hardware one, else (when allowed) the first software one, else null. */
export const chooseAdapter = <A extends { software: boolean }>(adapters: ReadonlyArray<A>, allowSoftware: boolean): A | null =>
  adapters.find((a) => !a.software) ?? (allowSoftware ? (adapters.find((a) => a.software) ?? null) : null)

/** Why WebGPU cannot start here, and the fix. */
export const noAdapterMessage = (probe: WebGpuProbe): string =>
  [
    `WebGPU has no adapter here${probe.dawn ? ` (${probe.dawn})` : ""}: ${probe.problems.join("; ") || "Dawn found none"}.`,
    "Fix: on a GPU machine, the driver's Vulkan ICD and Debian libvulkan1; on a CPU machine, the software adapter:",
    "`apt-get install libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri` (Mesa llvmpipe through EGL, EGL_PLATFORM=surfaceless);",
    "`harness doctor` lists what Dawn finds. Or use --backend wasm."
  ].join(" ")

let startedOn: WebGpuStart | null = null

/**
 * Starts tfjs-backend-webgpu on the chosen adapter (publishing it as navigator.gpu first). Once started, the
 * backend keeps its device for the life of the process: a later call returns the adapter already in use.
 */
export const startWebGpu = async (tf: typeof import("@tensorflow/tfjs"), allowSoftware: boolean): Promise<WebGpuStart | null> => {
  if (startedOn !== null) {
    if (!allowSoftware && startedOn.adapter.software) return null
    const ok = await tf.setBackend("webgpu")
    if (!ok) throw new Error("tf.setBackend('webgpu') returned false after it had started once")
    await tf.ready()
    return startedOn
  }
  const { probe, open } = await probeOpen()
  const chosen = chooseAdapter(
    open.map((o) => ({ ...o, software: o.record.software })),
    allowSoftware
  )
  if (chosen === null) {
    if (!allowSoftware && probe.adapters.length > 0) return null // only software adapters: auto moves on
    throw new Error(noAdapterMessage(probe))
  }
  const featureLevel = chosen.record.featureLevel
  const gpu = {
    requestAdapter: (options: Record<string, unknown> = {}) => chosen.gpu.requestAdapter({ ...options, featureLevel }),
    getPreferredCanvasFormat: () => "rgba8unorm",
    wgslLanguageFeatures: new Set<string>()
  }
  // Node >= 21 defines a read-only navigator getter: define the property rather than assign it.
  const existing = (globalThis as { navigator?: object }).navigator
  Object.defineProperty(globalThis, "navigator", { value: { ...(existing ?? {}), gpu }, configurable: true, writable: true })
  const specifier: string = "@tensorflow/tfjs-backend-webgpu"
  const backendModule = (await import(specifier)) as { version_webgpu?: string; webgpu_util?: unknown }
  if (tf.findBackendFactory("webgpu") === null) {
    throw new Error("@tensorflow/tfjs-backend-webgpu loaded but registered no backend (navigator.gpu was not visible at its import)")
  }
  const ok = await tf.setBackend("webgpu")
  if (!ok) throw new Error(`tf.setBackend('webgpu') failed on ${describeAdapter(chosen.record)}`)
  await tf.ready()
  installWebGpuFixes(tf)
  startedOn = {
    adapter: chosen.record,
    dawn: probe.dawn ?? "webgpu (dawn.node)",
    backendVersion: String(backendModule.version_webgpu ?? tf.version_core)
  }
  return startedOn
}

type KernelArgs = { inputs: Record<string, unknown> | unknown[]; backend: unknown; attrs?: Record<string, unknown> }
type TensorInfoLike = { dataId: object }
type WebGpuBackendLike = {
  device: { limits: { maxStorageBuffersPerShaderStage: number } }
  readSync(dataId: object): unknown
  disposeData(dataId: object): boolean
}

export const ADDN_SPLIT = "AddN(split to the adapter's storage-buffer limit)"

/**
 * Two gaps of tfjs-backend-webgpu 4.22.0 in Node:
 * - AddN binds every input as a storage buffer in one shader; adapters allow few per stage (8 on a compatibility
 *   adapter: llvmpipe), so the gradient norm's AddN over ~30 parameters made an invalid pipeline and the step read
 *   back zeros. Split: sums of at most (limit - 1) inputs, then the sum of those (Concat does the same).
 * - A synchronous read of a GPU tensor needs OffscreenCanvas, absent in Node: the bare ReferenceError becomes an
 *   error that says what happened and what to do.
 */
const installWebGpuFixes = (tf: typeof import("@tensorflow/tfjs")): void => {
  const backend = tf.backend() as unknown as WebGpuBackendLike
  const maxInputs = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1)
  const stock = tf.getKernel("AddN", "webgpu")
  if (stock !== undefined && !(stock as { split?: boolean }).split) {
    const stockFunc = stock.kernelFunc as unknown as (args: KernelArgs) => TensorInfoLike
    const addN = (args: KernelArgs): TensorInfoLike => {
      const inputs = args.inputs as unknown as TensorInfoLike[]
      if (inputs.length <= maxInputs) return stockFunc(args)
      const partials: TensorInfoLike[] = []
      for (let i = 0; i < inputs.length; i += maxInputs) {
        partials.push(stockFunc({ ...args, inputs: inputs.slice(i, i + maxInputs) })) // a lone input: identity, shared data (refcounted)
      }
      const out = addN({ ...args, inputs: partials })
      for (const p of partials) backend.disposeData(p.dataId)
      return out
    }
    tf.unregisterKernel("AddN", "webgpu")
    tf.registerKernel({ ...stock, kernelFunc: addN as unknown as typeof stock.kernelFunc, split: true } as typeof stock)
  }
  const readSync = backend.readSync.bind(backend)
  backend.readSync = (dataId: object) => {
    try {
      return readSync(dataId)
    } catch (e) {
      if (e instanceof ReferenceError && /OffscreenCanvas/.test(e.message)) {
        throw new Error(
          "a synchronous read (dataSync / arraySync) of a tensor that lives on the GPU: tfjs-backend-webgpu in Node has no " +
            "synchronous GPU read (it needs OffscreenCanvas). Read it with `await tensor.data()` first (then dataSync serves the copy)."
        )
      }
      throw e
    }
  }
}
