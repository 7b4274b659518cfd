/**
 * What each backend needs and whether this machine has it, found by trying (loading the native binding, asking
 * Dawn for adapters, starting wasm), never by guessing; the facts `harness doctor` prints. Writes nothing.
 */
import * as os from "node:os"
import { defaultThreads, initEngine, loadNative, type EngineInfo } from "./backend.js"
import { describeNativeGemm, loadNativeGemm } from "./native-gemm.js"
import { nvidiaSmi, type NvidiaGpu } from "./nvidia-smi.js"
import { chooseAdapter, gpuDeviceNodes, hasSharedLibrary, probeWebGpu, vulkanIcdFiles, type WebGpuProbe } from "./webgpu.js"

export interface BackendFinding {
  readonly backend: "tensorflow" | "webgpu" | "wasm" | "cpu"
  readonly needs: string
  readonly here: boolean
  /** what was found, or why not */
  readonly detail: string
}

export interface DoctorReport {
  readonly node: string
  readonly platform: string
  readonly cpus: number
  readonly memoryGiB: number
  readonly backends: ReadonlyArray<BackendFinding>
  readonly webgpu: WebGpuProbe & {
    readonly libraries: Readonly<Record<string, boolean>>
    readonly vulkanIcds: ReadonlyArray<string>
    readonly eglPlatform: string | null
    readonly gpuDeviceNodes: ReadonlyArray<string>
  }
  readonly wasm:
    | (Pick<EngineInfo, "threads" | "simd" | "kernelOverrides"> & { readonly defaultThreads: number; readonly maxThreads: number })
    | { readonly error: string }
  readonly nvidia: { readonly gpus: ReadonlyArray<NvidiaGpu> } | { readonly missing: string }
  /** what `--backend auto` would run here, and why */
  readonly auto: string
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0]!

export const diagnose = async (): Promise<DoctorReport> => {
  // EGL_PLATFORM is read by Mesa when Dawn opens EGL: record what the user had before the probe sets its default
  const eglPlatform = process.env.EGL_PLATFORM ?? null
  const native = await loadNative()
  const webgpu = await probeWebGpu()
  const hardware = chooseAdapter(webgpu.adapters, false)
  const software = webgpu.adapters.find((a) => a.software)
  let wasm: DoctorReport["wasm"]
  try {
    const info = await initEngine({ backend: "wasm" })
    wasm = {
      threads: info.threads,
      simd: info.simd,
      kernelOverrides: info.kernelOverrides,
      defaultThreads: defaultThreads(),
      maxThreads: os.availableParallelism()
    }
  } catch (e) {
    wasm = { error: firstLine(e) }
  }
  const nativeGemm = loadNativeGemm()
  const cKernels =
    nativeGemm.ok && nativeGemm.info.kernels !== undefined
      ? `, elementwise ops, sums, softmax and copies in C (${nativeGemm.info.kernels.compiler}, ${nativeGemm.info.kernels.isa})`
      : ""
  const products = nativeGemm.ok
    ? `matrix products on ${describeNativeGemm(nativeGemm.info)}${cKernels}`
    : `matrix products on the WebAssembly GEMM (native kernels: ${nativeGemm.reason})`
  const backends: BackendFinding[] = [
    {
      backend: "tensorflow",
      needs:
        "@tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8.1) or @tensorflow/tfjs-node: optional packages whose install downloads libtensorflow",
      here: native.loaded !== null,
      detail:
        native.loaded !== null
          ? `${native.loaded.name} ${native.loaded.version} loads`
          : `not installed (${native.errors.map((e) => e.replace(/ imported from .*$/, "")).join("; ")})`
    },
    {
      backend: "webgpu",
      needs:
        "a GPU with a Vulkan driver (libvulkan1 + the driver's ICD), or for tests the software adapter (Mesa llvmpipe: libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri)",
      here: webgpu.adapters.length > 0,
      detail:
        hardware !== null
          ? `hardware adapter: ${hardware.device || hardware.description} via ${hardware.dawnBackend}`
          : software !== undefined
            ? `only a SOFTWARE adapter (${software.device || software.description} via ${software.dawnBackend}): --backend webgpu runs there slowly; auto does not pick it`
            : `no adapter: ${webgpu.problems.join("; ")}`
    },
    {
      backend: "wasm",
      needs:
        "nothing beyond npm ci (tfjs-backend-wasm ships its .wasm files); optional native matrix products: libdnnl-dev (oneDNN), built by npm ci",
      here: !("error" in wasm),
      detail:
        "error" in wasm
          ? wasm.error
          : `${wasm.simd ? "SIMD" : "no SIMD"}, ${wasm.threads} thread(s) now (default ${wasm.defaultThreads}, --threads up to ${wasm.maxThreads}), kernels ${wasm.kernelOverrides[0] ?? "stock"}; ${products}`
    },
    { backend: "cpu", needs: "nothing (pure JavaScript)", here: true, detail: "always available; the parity reference" }
  ]
  const auto =
    native.loaded !== null
      ? `tensorflow (${native.loaded.name})`
      : hardware !== null && gpuDeviceNodes().length > 0
        ? `webgpu on ${hardware.device || hardware.description}`
        : `wasm (${hardware !== null ? "a hardware adapter exists but no GPU device node was seen" : "no native TensorFlow, no hardware WebGPU adapter"})`
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    backends,
    webgpu: {
      ...webgpu,
      libraries: Object.fromEntries(["libvulkan.so.1", "libEGL.so.1", "libGLESv2.so.2"].map((l) => [l, hasSharedLibrary(l)])),
      vulkanIcds: vulkanIcdFiles(),
      eglPlatform,
      gpuDeviceNodes: gpuDeviceNodes()
    },
    wasm,
    nvidia: nvidiaSmi(),
    auto
  }
}
