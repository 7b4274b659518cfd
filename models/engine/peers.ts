/**
 * The engine benchmark's peers, both optional and installing nothing:
 *  - PyTorch (Debian `python3-torch`): the same reference model trained in a python3 child, only when
 *    `python3 -c "import torch"` works and the user asked (--with-torch);
 *  - OpenBLAS sgemm (Debian `libopenblas-dev` or `libopenblas0`): the practical float32 matmul ceiling of this
 *    CPU, from a tiny C program compiled with gcc at bench time, only when a libopenblas shared library and gcc
 *    are present.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { ReferenceModelConfig } from "./reference-model.js"

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

/** The reference model in PyTorch: same architecture, init scheme, optimizer, batch (see reference-model.ts). */
const TORCH_SCRIPT = String.raw`
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(1)
V, d, H, L, f, T, B = cfg["vocab"], cfg["dModel"], cfg["heads"], cfg["layers"], cfg["ffnHidden"], cfg["seqLength"], cfg["batch"]
hd = d // H

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(d, eps=1e-5); self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.wq = nn.Linear(d, d, bias=False); self.wk = nn.Linear(d, d, bias=False); self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.w1 = nn.Linear(d, f); self.w2 = nn.Linear(f, d)
    def forward(self, x, mask):
        b, t, _ = x.shape
        xn = self.ln1(x)
        q, k, v = (w(xn).view(b, t, H, hd).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        s = (q / math.sqrt(hd)) @ k.transpose(-1, -2) + mask
        a = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.wo(a)
        return x + self.w2(F.relu(self.w1(self.ln2(x))))

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, d)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.lnf = nn.LayerNorm(d, eps=1e-5); self.out = nn.Linear(d, V, bias=False)
        for p in self.parameters():
            if p.dim() == 2: nn.init.trunc_normal_(p, std=0.02, a=-0.04, b=0.04)
    def forward(self, tokens):
        t = tokens.shape[1]
        mask = torch.triu(torch.full((t, t), -1e9), diagonal=1)
        x = self.embed(tokens)
        for blk in self.blocks: x = blk(x, mask)
        return self.out(self.lnf(x))

model = Model()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
g = torch.Generator().manual_seed(1)
def batch(): return torch.randint(0, V, (B, T + 1), generator=g)
def step():
    tok = batch()
    loss = F.cross_entropy(model(tok[:, :-1]).reshape(-1, V), tok[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return loss.item()
for _ in range(cfg["warmup"]): step()
t0 = time.perf_counter()
for _ in range(cfg["steps"]): loss = step()
train_s = (time.perf_counter() - t0) / cfg["steps"]
with torch.no_grad():
    tok = batch(); model(tok[:, :-1])
    t0 = time.perf_counter()
    for _ in range(cfg["steps"]): model(batch()[:, :-1])
    eval_s = (time.perf_counter() - t0) / cfg["steps"]
print(json.dumps({"torchVersion": torch.__version__, "threads": torch.get_num_threads(), "secondsPerStep": train_s,
    "trainTokensPerSecond": B * T / train_s, "evalTokensPerSecond": B * T / eval_s, "finalLoss": loss}))
`

/**
 * Pythons to try, in order: $HARNESS_PYTHON, `python3` on the PATH, then Debian's /usr/bin/python3 (where
 * `apt-get install python3-torch` puts torch, while a pyenv or venv python3 may shadow it on the PATH).
 */
const pythonCandidates = (): string[] => [...new Set([process.env.HARNESS_PYTHON, "python3", "/usr/bin/python3"].filter((p): p is string => !!p))]

/** The first python that imports torch, and torch's version. */
export const torchAvailable = (): Peer<{ python: string; version: string }> => {
  const tried: string[] = []
  for (const python of pythonCandidates()) {
    const probe = spawnSync(python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", timeout: 60_000 })
    if (probe.error === undefined && probe.status === 0) return { ok: true, value: { python, version: probe.stdout.trim() } }
    tried.push(python)
  }
  return { ok: false, note: `PyTorch not found (tried ${tried.join(", ")}; none imports torch): \`apt-get install python3-torch\` enables --with-torch, or set HARNESS_PYTHON` }
}

/**
 * The peer at its best on this machine: Debian's torch does its matmuls in OpenBLAS, whose threads multiply with
 * torch's own, so "2 torch threads" oversubscribes 2 cores (measured here: 0.236 s/step, against 0.086 s/step for
 * 1 torch thread + 2 OpenBLAS threads). Both splits of the `threads` budget are run and the faster is reported.
 */
export const runTorchPeer = (config: ReferenceModelConfig, steps: number, threads: number, warmup = 8): Peer<TorchResult> => {
  const available = torchAvailable()
  if (!available.ok) return available
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fope-torch-peer-"))
  const script = path.join(dir, "reference_model.py")
  fs.writeFileSync(script, TORCH_SCRIPT)
  const splits = [...new Map([[`1/${threads}`, { torch: 1, blas: threads }], [`${threads}/1`, { torch: threads, blas: 1 }]]).values()]
  // OpenBLAS picks its kernels by CPU model; a model it does not know (0.3.21 on a virtualised Xeon here) gets its
  // generic SSE3 "Prescott" kernels, 6-10x slower. Each split also runs with the kernel this CPU's flags allow forced,
  // and the faster counts: the peer at its best, not handicapped by a probe.
  const forced = openBlasCoreForThisCpu()
  const configs = [...splits.map((split) => ({ ...split, core: undefined as string | undefined })), ...(forced === null ? [] : splits.map((split) => ({ ...split, core: forced })))]
  const results: TorchResult[] = []
  const failures: string[] = []
  try {
    for (const split of configs) {
      const arg = JSON.stringify({ ...config, steps, warmup, threads: split.torch })
      const run = spawnSync(available.value.python, [script, arg], {
        encoding: "utf8",
        timeout: 600_000,
        env: { ...process.env, OPENBLAS_NUM_THREADS: String(split.blas), OMP_NUM_THREADS: String(split.torch), ...(split.core !== undefined ? { OPENBLAS_CORETYPE: split.core } : {}) }
      })
      if (run.status !== 0) {
        failures.push(`exit ${run.status}: ${(run.stderr ?? "").trim().split("\n").slice(-3).join(" / ")}`)
        continue
      }
      try {
        results.push({ ...(JSON.parse(run.stdout.trim().split("\n").pop() ?? "") as Omit<TorchResult, "blasThreads">), blasThreads: split.blas, ...(split.core !== undefined ? { blasCore: split.core } : {}) })
      } catch {
        failures.push(`printed no JSON result: ${run.stdout.slice(-300)}`)
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
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

const SGEMM_C = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
/* The CBLAS prototype, declared here so that only the shared library is needed (no headers). */
extern void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a,
                        int lda, const float *b, int ldb, float beta, float *c, int ldc);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double gflops(int n, int reps) {
  float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
  unsigned s = 12345u;
  for (int i = 0; i < n * n; i++) { s = s * 1103515245u + 12345u; a[i] = (float)(s >> 8) / 16777216.0f - 0.5f; b[i] = a[i] * 0.5f; }
  cblas_sgemm(101, 111, 111, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* warm-up */
  double best = 1e30; /* a ceiling: the fastest of 5 timing windows (the machine's speed drifts) */
  for (int w = 0; w < 5; w++) {
    double t0 = now();
    for (int r = 0; r < reps; r++) cblas_sgemm(101, 111, 111, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  free(a); free(b); free(c);
  return 2.0 * n * n * (double)n * reps / best / 1e9;
}
int main(void) { printf("{\"gflops512\": %f, \"gflops1024\": %f}\n", gflops(512, 10), gflops(1024, 4)); return 0; }
`

/** A libopenblas shared object from the dynamic linker's cache or the usual Debian paths, or null. */
const findOpenBlas = (): string | null => {
  const cache = spawnSync("ldconfig", ["-p"], { encoding: "utf8" })
  const fromCache = (cache.stdout ?? "").split("\n").map((l) => l.match(/libopenblas[^ ]*\.so[^ ]* .*=> (\S+)/)?.[1]).find((p) => p !== undefined)
  if (fromCache !== undefined) return fromCache
  const dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib"]
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue
    const hit = fs.readdirSync(dir).find((f) => /^libopenblas.*\.so/.test(f))
    if (hit !== undefined) return path.join(dir, hit)
  }
  return null
}

/** Compiles `source` against `link` and runs it once per environment; the fastest run at 1024^3, or why none ran. */
const runSgemmProbe = (
  source: string, link: ReadonlyArray<string>, library: string, threads: number, envs: ReadonlyArray<Record<string, string>>
): Peer<SgemmResult> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fope-sgemm-"))
  try {
    fs.writeFileSync(path.join(dir, "sgemm.c"), source)
    const exe = path.join(dir, "sgemm")
    const cc = spawnSync("gcc", ["-O2", "-o", exe, path.join(dir, "sgemm.c"), ...link], { encoding: "utf8", timeout: 120_000 })
    if (cc.error !== undefined || cc.status !== 0) {
      return { ok: false, note: `could not compile the sgemm probe against ${library} with gcc: ${cc.error?.message ?? cc.stderr.trim().split("\n")[0]}` }
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
      if (best === undefined || r.gflops1024 > best.gflops1024) best = { library: core !== undefined ? `${library} (OPENBLAS_CORETYPE=${core})` : library, threads, ...r }
    }
    return best !== undefined ? { ok: true, value: best } : { ok: false, note: `sgemm probe failed (${failures.join("; ")})` }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** OpenBLAS sgemm at its best: with its own CPU probe and, where the flags allow one, the kernel forced (see runTorchPeer). */
export const runSgemmPeer = (threads: number): Peer<SgemmResult> => {
  const lib = findOpenBlas()
  if (lib === null) return { ok: false, note: "OpenBLAS not installed (no libopenblas*.so): `apt-get install libopenblas-dev` enables the sgemm ceiling" }
  const forced = openBlasCoreForThisCpu()
  return runSgemmProbe(SGEMM_C, [lib], lib, threads, [{}, ...(forced === null ? [] : [{ OPENBLAS_CORETYPE: forced }])])
}

/** oneDNN's sgemm on the same n^3 products: the ceiling of the native product path (native/, `libdnnl-dev`). */
export const runOneDnnSgemmPeer = (threads: number): Peer<SgemmResult> => {
  const source = SGEMM_C.replace(
    /extern void cblas_sgemm\([^;]*;/,
    "extern int dnnl_sgemm(char transa, char transb, long long m, long long n, long long k, float alpha, const float *a,\n" +
      "                      long long lda, const float *b, long long ldb, float beta, float *c, long long ldc);"
  ).replaceAll("cblas_sgemm(101, 111, 111,", "dnnl_sgemm('N', 'N',")
  const r = runSgemmProbe(source, ["-ldnnl"], "oneDNN", threads, [{}])
  return r.ok ? r : { ok: false, note: `oneDNN sgemm: ${r.note} (\`apt-get install libdnnl-dev\` enables it)` }
}
