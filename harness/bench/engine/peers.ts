/**
 * The engine benchmark's peers, both optional and installing nothing:
 *  - PyTorch (Debian `python3-torch`): the same reference model trained by peers/reference_model.py in a python3
 *    child, only when `python3 -c "import torch"` works and the user asked (--with-torch);
 *  - sgemm: the practical float32 matmul ceiling of this CPU, from peers/sgemm.c compiled with gcc at bench time
 *    against OpenBLAS (Debian `libopenblas-dev` or `libopenblas0`) when a libopenblas shared library and gcc are
 *    present, and against oneDNN (`libdnnl-dev`) beside the native product variants.
 * The peer programs are real files in peers/ beside this module, read from there at run time (peerFile: also from
 * dist/ and from a bundle).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { ReferenceModelConfig } from "../../../models/engine/reference-model.js"

export interface TorchResult {
  readonly torchVersion: string
  /** torch intra-op threads */
  readonly threads: number
  /** OpenBLAS threads (OPENBLAS_NUM_THREADS) of the configuration that won */
  readonly blasThreads: number
  /** OpenBLAS's CPU kernel as forced by OPENBLAS_CORETYPE for the configuration that won; absent: its own probe */
  readonly blasCore?: string
  readonly secondsPerStep: number
  readonly trainTokensPerSecond: number
  readonly evalTokensPerSecond: number
  readonly finalLoss: number
}
export interface SgemmResult {
  readonly library: string
  readonly threads: number
  readonly gflops512: number
  readonly gflops1024: number
}
export type Peer<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly note: string }

const PEERS = path.join("harness", "bench", "engine", "peers")

/**
 * A peer program (reference_model.py, sgemm.c) by file name, or null: peers/ beside this module (the sources, and
 * a bundle that carries the folder beside it: scripts/prepare-gpu-check.sh), else harness/bench/engine/peers in the
 * nearest folder above it that holds one (this module compiled into dist/).
 */
export const peerFile = (name: string): string | null => {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const beside = path.join(here, "peers", name)
  if (fs.existsSync(beside)) return beside
  for (let dir = here; ; ) {
    const candidate = path.join(dir, PEERS, name)
    if (fs.existsSync(candidate)) return candidate
    const up = path.dirname(dir)
    if (up === dir) return null
    dir = up
  }
}
const missing = (name: string): { readonly ok: false; readonly note: string } => ({
  ok: false,
  note: `the peer program ${name} is not beside the harness (${PEERS}/${name})`
})

/**
 * Pythons to try, in order: $HARNESS_PYTHON, `python3` on the PATH, then Debian's /usr/bin/python3 (where
 * `apt-get install python3-torch` puts torch, while a pyenv or venv python3 may shadow it on the PATH).
 */
const pythonCandidates = (): string[] => [
  ...new Set([process.env.HARNESS_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string => !!p))
]

/** The first python that imports torch, and torch's version. */
export const torchAvailable = (): Peer<{ python: string; version: string }> => {
  const tried: string[] = []
  for (const python of pythonCandidates()) {
    const probe = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", timeout: 60_000 })
    if (probe.error === undefined && probe.status === 0) return { ok: true, value: { python, version: probe.stdout.trim() } }
    tried.push(python)
  }
  return {
    ok: false,
    note: `PyTorch not found (tried ${tried.join(", ")}; none imports torch): \`apt-get install python3-torch\` enables --with-torch, or set HARNESS_PYTHON`
  }
}

/**
 * The peer at its best on this machine: Debian's torch does its matmuls in OpenBLAS, whose threads multiply with
 * torch's own, so "2 torch threads" oversubscribes 2 cores (about 3x slower than 1 torch thread + 2 OpenBLAS
 * threads: docs/engine-measurements.md). Both splits of the `threads` budget are run and the faster is reported.
 */
export const runTorchPeer = (config: ReferenceModelConfig, steps: number, threads: number, warmup = 8): Peer<TorchResult> => {
  const available = torchAvailable()
  if (!available.ok) return available
  const script = peerFile("reference_model.py")
  if (script === null) return missing("reference_model.py")
  const splits = [
    ...new Map([
      [`1/${threads}`, { torch: 1, blas: threads }],
      [`${threads}/1`, { torch: threads, blas: 1 }]
    ]).values()
  ]
  // OpenBLAS picks its kernels by CPU model; a model it does not know (0.3.21 on a virtualised Xeon) gets its
  // generic SSE3 "Prescott" kernels, several times slower (docs/engine-measurements.md). Each split also runs with the kernel this CPU's flags allow forced,
  // and the faster counts: the peer at its best, not handicapped by a probe.
  const forced = openBlasCoreForThisCpu()
  const configs = [
    ...splits.map((split) => ({ ...split, core: undefined as string | undefined })),
    ...(forced === null ? [] : splits.map((split) => ({ ...split, core: forced })))
  ]
  const results: TorchResult[] = []
  const failures: string[] = []
  for (const split of configs) {
    const arg = JSON.stringify({ ...config, steps, warmup, threads: split.torch })
    const run = spawnSync(available.value.python, [script, arg], {
      encoding: "utf8",
      timeout: 600_000,
      env: {
        ...process.env,
        OPENBLAS_NUM_THREADS: String(split.blas),
        OMP_NUM_THREADS: String(split.torch),
        ...(split.core !== undefined ? { OPENBLAS_CORETYPE: split.core } : {})
      }
    })
    if (run.status !== 0) {
      failures.push(`exit ${run.status}: ${(run.stderr ?? "").trim().split("\n").slice(-3).join(" / ")}`)
      continue
    }
    try {
      results.push({
        ...(JSON.parse(run.stdout.trim().split("\n").pop() ?? "") as Omit<TorchResult, "blasThreads">),
        blasThreads: split.blas,
        ...(split.core !== undefined ? { blasCore: split.core } : {})
      })
    } catch {
      failures.push(`printed no JSON result: ${run.stdout.slice(-300)}`)
    }
  }
  const best = results.sort((a, b) => a.secondsPerStep - b.secondsPerStep)[0]
  return best ? { ok: true, value: best } : { ok: false, note: `PyTorch peer failed (${failures.join("; ")})` }
}

/** The OpenBLAS kernel family this CPU's flags allow (x86-64 Linux): SkylakeX with AVX-512, Haswell with AVX2, else null. */
export const openBlasCoreForThisCpu = (): string | null => {
  let flags = ""
  try {
    flags = fs.readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1] ?? ""
  } catch {
    return null
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags)
  return has("avx512f") && has("avx512vl") ? "SkylakeX" : has("avx2") && has("fma") ? "Haswell" : null
}

/** A libopenblas shared object from the dynamic linker's cache or the usual Debian paths, or null. */
const findOpenBlas = (): string | null => {
  const cache = spawnSync("ldconfig", ["-p"], { encoding: "utf8" })
  const fromCache = (cache.stdout ?? "")
    .split("\n")
    .map((l) => l.match(/libopenblas[^ ]*\.so[^ ]* .*=> (\S+)/)?.[1])
    .find((p) => p !== undefined)
  if (fromCache !== undefined) return fromCache
  const dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"]
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue
    const hit = fs.readdirSync(dir).find((f) => /^libopenblas.*\.so/.test(f))
    if (hit !== undefined) return path.join(dir, hit)
  }
  return null
}

/** Compiles peers/sgemm.c (with `defines`) against `link` and runs it once per environment; the fastest run at
 * 1024^3, or why none ran. */
const runSgemmProbe = (
  defines: ReadonlyArray<string>,
  link: ReadonlyArray<string>,
  library: string,
  threads: number,
  envs: ReadonlyArray<Record<string, string>>
): Peer<SgemmResult> => {
  const source = peerFile("sgemm.c")
  if (source === null) return missing("sgemm.c")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fope-sgemm-"))
  try {
    const exe = path.join(dir, "sgemm")
    const cc = spawnSync("gcc", ["-O2", ...defines, "-o", exe, source, ...link], { encoding: "utf8", timeout: 120_000 })
    if (cc.error !== undefined || cc.status !== 0) {
      return {
        ok: false,
        note: `could not compile the sgemm probe against ${library} with gcc: ${cc.error?.message ?? cc.stderr.trim().split("\n")[0]}`
      }
    }
    let best: SgemmResult | undefined
    const failures: string[] = []
    for (const extra of envs) {
      const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), ...extra }
      const run = spawnSync(exe, [], { encoding: "utf8", env, timeout: 300_000 })
      if (run.status !== 0) {
        failures.push(`exit ${run.status}: ${(run.stderr ?? "").trim()}`)
        continue
      }
      const r = JSON.parse(run.stdout) as { gflops512: number; gflops1024: number }
      const core = extra.OPENBLAS_CORETYPE
      if (best === undefined || r.gflops1024 > best.gflops1024)
        best = { library: core !== undefined ? `${library} (OPENBLAS_CORETYPE=${core})` : library, threads, ...r }
    }
    return best !== undefined ? { ok: true, value: best } : { ok: false, note: `sgemm probe failed (${failures.join("; ")})` }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** OpenBLAS sgemm at its best: with its own CPU probe and, where the flags allow one, the kernel forced (see runTorchPeer). */
export const runSgemmPeer = (threads: number): Peer<SgemmResult> => {
  const lib = findOpenBlas()
  if (lib === null)
    return { ok: false, note: "OpenBLAS not installed (no libopenblas*.so): `apt-get install libopenblas-dev` enables the sgemm ceiling" }
  const forced = openBlasCoreForThisCpu()
  return runSgemmProbe([], [lib], lib, threads, [{}, ...(forced === null ? [] : [{ OPENBLAS_CORETYPE: forced }])])
}

/** oneDNN's sgemm on the same n^3 products: the ceiling of the native product path (native/, `libdnnl-dev`). */
export const runOneDnnSgemmPeer = (threads: number): Peer<SgemmResult> => {
  const r = runSgemmProbe(["-DSGEMM_ONEDNN"], ["-ldnnl"], "oneDNN", threads, [{}])
  return r.ok ? r : { ok: false, note: `oneDNN sgemm: ${r.note} (\`apt-get install libdnnl-dev\` enables it)` }
}
