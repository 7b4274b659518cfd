/**
 * The optional native matrix products: oneDNN's sgemm (Debian `libdnnl-dev`) through the N-API addon in native/
 * (dnnl-gemm.c), computing straight on the wasm heap. `npm ci` builds the addon when the library is present
 * (native/build.mjs); when it is absent, fails to load or `HARNESS_NATIVE=off` is set, this module says why and the
 * engine multiplies on its WebAssembly GEMM (wasm-gemm.ts).
 *
 * Why oneDNN: it picks its kernel by probing the CPU at run time, where OpenBLAS and BLIS went by the CPU model and
 * ran older, slower kernels on this machine (docs/engine-measurements.md); it is also the library PyTorch's CPU
 * kernels use.
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export interface NativeGemmInfo {
  readonly library: string // "oneDNN"
  readonly version: string // "2.6.3"
  /** the widest instruction set oneDNN's kernels may use on this CPU (its own probe), e.g. "avx512_core_amx" */
  readonly isa: string
  /** oneDNN's thread runtime (Debian builds it on OpenMP) */
  readonly runtime: string
  /** the addon's own C kernels (native/kernels.c, kernels/native.ts): the vector instruction set they were compiled
   * for here and the compiler; absent in an addon built before them */
  readonly kernels?: { readonly isa: string; readonly compiler: string }
}

/** The addon's functions (native/dnnl-gemm.c). */
export interface NativeGemmAddon {
  /** C = op(A) op(B) for `count` products, each NATIVE_GEMM_FIELDS uint32s of `table` (byte offsets into `heap`) */
  gemm(heap: Uint8Array, table: Uint32Array, count: number): void
  setThreads(threads: number): void
  info(): NativeGemmInfo & {
    readonly isa: string
    readonly maxThreads: number
    readonly kernelsIsa?: string
    readonly kernelsCompiler?: string
  }
}

/** Fields of one product in the addon's table, in order. */
export const NATIVE_GEMM_FIELDS = 11 // transA, transB, M, N, K, aOffset, lda, bOffset, ldb, cOffset, ldc

export type NativeGemmLoad =
  | { readonly ok: true; readonly addon: NativeGemmAddon; readonly info: NativeGemmInfo; readonly path: string }
  | { readonly ok: false; readonly reason: string }

const ADDON = path.join("native", "build", "Release", "dnnl_gemm.node")

/** The repository root: the nearest folder above this module holding native/binding.gyp (source or dist/). */
const repoRoot = (): string | null => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (fs.existsSync(path.join(dir, "native", "binding.gyp"))) return dir
    const up = path.dirname(dir)
    if (up === dir) return null
    dir = up
  }
}

let loaded: NativeGemmLoad | undefined

/** Loads the addon once per process; the reason when it cannot. */
export const loadNativeGemm = (): NativeGemmLoad => {
  if (loaded !== undefined) return loaded
  loaded = tryLoad()
  return loaded
}

const tryLoad = (): NativeGemmLoad => {
  if (process.env.HARNESS_NATIVE === "off") return { ok: false, reason: "HARNESS_NATIVE=off" }
  const root = repoRoot()
  if (root === null) return { ok: false, reason: "native/ not found beside the harness" }
  const file = path.join(root, ADDON)
  if (!fs.existsSync(file)) {
    return { ok: false, reason: `addon not built (${ADDON} missing: install libdnnl-dev, then \`npm run build:native\`)` }
  }
  // OpenMP's threads spin at a barrier by default; on a shared machine a spinning thread holds the core its
  // descheduled partner needs (on a loaded machine the products ran about 10x slower spinning than sleeping:
  // docs/engine-measurements.md). libgomp reads this once, when the addon loads it; a user's own setting is kept.
  process.env.OMP_WAIT_POLICY ??= "PASSIVE"
  try {
    const addon = createRequire(import.meta.url)(file) as NativeGemmAddon
    const raw = addon.info()
    const info: NativeGemmInfo = {
      library: raw.library,
      version: raw.version,
      isa: raw.isa.replace(/^cpu_isa_/, ""),
      runtime: raw.runtime,
      ...(raw.kernelsIsa !== undefined ? { kernels: { isa: raw.kernelsIsa, compiler: raw.kernelsCompiler ?? "unknown compiler" } } : {})
    }
    return { ok: true, addon, info, path: file }
  } catch (e) {
    return { ok: false, reason: `addon did not load (${e instanceof Error ? e.message.split("\n")[0] : String(e)})` }
  }
}

/** "oneDNN 2.6.3 sgemm, avx512_core_amx": what the engine record names as the BatchMatMul kernel. */
export const describeNativeGemm = (info: NativeGemmInfo): string => `${info.library} ${info.version} sgemm, ${info.isa}`
