/**
 * The engine benchmark (`harness bench engine`): the reference model (models/engine/reference-model.ts; 2 layers,
 * d=128, 4 heads, vocab 64, batch 8 x 128 tokens, ~2.9 GFLOP a step) trained and evaluated per backend variant
 * (variants.ts), plus float32 matmul GFLOP/s at 512^3 and 1024^3, peak RSS, the machine's load and the harness's
 * decoder at the CPU scales; optionally PyTorch and the sgemm ceilings beside them (peers.ts).
 *
 * Each variant runs in a fresh child process (child.ts): kernel overrides, the wasm thread count and the peak RSS
 * are process-global. This parent collects one result per child and computes the ratios (same run) and the metrics
 * the ledger records; format.ts prints them.
 *
 *   npm run bench:engine                                  all variants (~2-3 minutes on 2 cores)
 *   npx harness bench engine --quick                      fewer steps
 *   npx harness bench engine --backends cpu,wasm-tuned-2t --steps 20 --with-torch
 */
import { loadNativeGemm } from "../../../models/engine/native-gemm.js"
import { REFERENCE_MODEL } from "../../../models/engine/reference-model.js"
import { probeWebGpu } from "../../../models/engine/webgpu.js"
import type { MetricRecord } from "../../../models/eval/metrics.js"
import { runChild } from "./child.js"
import { loadavg, now } from "./measure.js"
import { runOneDnnSgemmPeer, runSgemmPeer, runTorchPeer, type Peer, type TorchResult } from "./peers.js"
import {
  BENCH_VARIANTS,
  SCALE_LENGTH,
  WARMUP_STEPS,
  type EngineBenchOptions,
  type EngineBenchResult,
  type PairedRound,
  type VariantResult
} from "./variants.js"

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const nativeLoadable = async (): Promise<boolean> => {
  for (const name of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      const specifier: string = name
      await import.meta.resolve?.(specifier)
      return true
    } catch {
      /* not installed */
    }
  }
  return false
}

const selectVariants = async (backends: ReadonlyArray<string> | undefined): Promise<{ names: string[]; notes: string[] }> => {
  const notes: string[] = []
  const all = BENCH_VARIANTS.map((v) => v.name)
  const groups: Record<string, string[]> = {
    cpu: ["cpu"],
    wasm: ["wasm-stock-1t", "wasm-tuned-1t", "wasm-tuned-2t", "wasm-native-1t", "wasm-native-2t"],
    tensorflow: ["tensorflow"],
    webgpu: ["webgpu", "webgpu-software"]
  }
  let names: string[]
  if (backends === undefined || backends.length === 0) names = all
  else {
    names = []
    for (const b of backends) {
      const hit = groups[b] ?? (all.includes(b) ? [b] : undefined)
      if (hit === undefined) {
        throw new Error(`Unknown bench backend "${b}": use ${[...Object.keys(groups), ...all.filter((n) => !(n in groups))].join(", ")}.`)
      }
      for (const n of hit) if (!names.includes(n)) names.push(n)
    }
  }
  if (names.some((n) => n.startsWith("webgpu"))) {
    // the variant that matches the adapter Dawn finds: "webgpu" on hardware, "webgpu-software" (fewer steps) else
    const adapters = (await probeWebGpu()).adapters
    const hardware = adapters.some((a) => !a.software)
    const keep = adapters.length === 0 ? null : hardware ? "webgpu" : "webgpu-software"
    names = names.filter((n) => !n.startsWith("webgpu") || n === keep)
    if (keep === null) notes.push("webgpu: no adapter (`harness doctor` says why); skipped")
    else if (!hardware) notes.push("webgpu: only a SOFTWARE adapter (Mesa llvmpipe on the CPU): measured for comparison, not a GPU figure")
  }
  const nativeGemm = loadNativeGemm()
  if (names.some((n) => n.startsWith("wasm-native")) && !nativeGemm.ok) {
    names = names.filter((n) => !n.startsWith("wasm-native"))
    notes.push(`wasm-native: ${nativeGemm.reason}; skipped`)
  }
  if (names.includes("tensorflow") && !(await nativeLoadable())) {
    names = names.filter((n) => n !== "tensorflow")
    notes.push("tensorflow: not installed (optional @tensorflow/tfjs-node[-gpu] needs libtensorflow from the internet); skipped")
  }
  return { names, notes }
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a !== undefined && b !== undefined && b > 0 ? a / b : undefined

export const runEngineBenchmark = async (options: EngineBenchOptions = {}): Promise<EngineBenchResult> => {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"))
  const steps = options.steps ?? (options.quick === true ? 3 : 10)
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`)
  const started = now()
  const loadavgBefore = loadavg()
  const { names, notes } = await selectVariants(options.backends)
  // The extra measurements (vocab-256 embedding comparison, 16x-length evaluation) go to the single-thread tuned
  // variant: on a shared 2-core machine two XNNPACK threads lose badly to oversubscription (see backend.ts).
  const embeddingVariant = names.includes("wasm-tuned-1t") ? "wasm-tuned-1t" : names.find((n) => n.startsWith("wasm-tuned"))
  const variants: VariantResult[] = []
  for (const variant of names) {
    log(`[bench:engine] ${variant} (load ${loadavg()}) ...`)
    const r = await runChild({ variant, steps, embeddingComparison: variant === embeddingVariant, scales: true }, 600_000)
    log(
      r.ok
        ? `[bench:engine] ${variant}: ${r.secondsPerStep?.toFixed(3)} s/step, ${r.trainTokensPerSecond?.toFixed(0)} tokens/s`
        : `[bench:engine] ${variant} failed: ${r.error}`
    )
    variants.push(r)
  }
  const threads = Math.max(...variants.map((v) => v.threads ?? 1), 1)
  let torch: Peer<TorchResult> | null = null
  if (options.withTorch === true) {
    log("[bench:engine] PyTorch peer ...")
    torch = runTorchPeer(REFERENCE_MODEL, steps, threads, WARMUP_STEPS)
    if (!torch.ok) notes.push(`torch: ${torch.note}`)
  }
  const by = (name: string) => variants.find((v) => v.variant === name && v.ok)
  let paired: EngineBenchResult["paired"]
  const contenders = variants.filter(
    (v) => v.ok && (v.variant.startsWith("wasm-tuned") || v.variant.startsWith("wasm-native") || v.variant === "tensorflow")
  )
  if (torch?.ok === true && contenders.length > 0) {
    const roundsWanted = options.rounds ?? 3
    if (!Number.isInteger(roundsWanted) || roundsWanted < 1) throw new Error(`rounds must be a positive integer, got ${roundsWanted}`)
    const pair = (measured: ReadonlyArray<VariantResult>, p: TorchResult): PairedRound => {
      const bestOf = (key: "trainTokensPerSecond" | "evalTokensPerSecond") =>
        measured.reduce((best, v) => ((v[key] ?? 0) > (best[key] ?? 0) ? v : best))
      const train = bestOf("trainTokensPerSecond")
      const ev = bestOf("evalTokensPerSecond")
      return {
        trainVariant: train.variant,
        evalVariant: ev.variant,
        tfjsTrainTokensPerSecond: train.trainTokensPerSecond!,
        tfjsEvalTokensPerSecond: ev.evalTokensPerSecond!,
        torchTrainTokensPerSecond: p.trainTokensPerSecond,
        torchEvalTokensPerSecond: p.evalTokensPerSecond,
        train: train.trainTokensPerSecond! / p.trainTokensPerSecond,
        eval: ev.evalTokensPerSecond! / p.evalTokensPerSecond
      }
    }
    const rounds = [pair(contenders, torch.value)]
    for (let r = 2; r <= roundsWanted; r++) {
      log(
        `[bench:engine] paired round ${r}/${roundsWanted}: ${contenders.map((v) => v.variant).join(", ")}, PyTorch (load ${loadavg()}) ...`
      )
      const measured: VariantResult[] = []
      for (const v of contenders) {
        const t = await runChild({ variant: v.variant, steps, embeddingComparison: false }, 600_000)
        if (t.ok) measured.push(t)
        else notes.push(`paired round ${r}: ${v.variant} failed: ${t.error}`)
      }
      const p = runTorchPeer(REFERENCE_MODEL, steps, threads, WARMUP_STEPS)
      if (measured.length === 0 || !p.ok) {
        if (!p.ok) notes.push(`paired round ${r}: PyTorch failed: ${p.note}`)
        continue
      }
      const round = pair(measured, p.value)
      log(`[bench:engine] paired round ${r}: tfjs/PyTorch train ${round.train.toFixed(2)}, eval ${round.eval.toFixed(2)}`)
      rounds.push(round)
    }
    paired = { variants: contenders.map((v) => v.variant), rounds }
  }
  const sgemm = runSgemmPeer(threads)
  if (!sgemm.ok) notes.push(`sgemm: ${sgemm.note}`)
  const nativeBest = variants
    .filter((v) => v.ok && v.variant.startsWith("wasm-native"))
    .reduce<VariantResult | undefined>((b, v) => ((v.matmulGflops1024 ?? 0) > (b?.matmulGflops1024 ?? 0) ? v : b), undefined)
  const sgemmNative = nativeBest !== undefined ? runOneDnnSgemmPeer(threads) : undefined
  if (sgemmNative !== undefined && !sgemmNative.ok) notes.push(`sgemm: ${sgemmNative.note}`)

  const bestMatmul = Math.max(...variants.map((v) => v.matmulGflops1024 ?? 0))
  const tunedVariants = [by("wasm-tuned-1t"), by("wasm-tuned-2t")].filter((v): v is VariantResult => v !== undefined)
  const tuned = tunedVariants.reduce<VariantResult | undefined>(
    (best, v) => (best === undefined || (v.trainTokensPerSecond ?? 0) > (best.trainTokensPerSecond ?? 0) ? v : best),
    undefined
  )
  const withExtras = variants.find((v) => v.ok && v.embedding !== undefined)
  const candidates: Record<string, number | undefined> = {
    "tuned_1t_vs_stock_1t.train": ratio(by("wasm-tuned-1t")?.trainTokensPerSecond, by("wasm-stock-1t")?.trainTokensPerSecond),
    "tuned_1t_vs_stock_1t.eval": ratio(by("wasm-tuned-1t")?.evalTokensPerSecond, by("wasm-stock-1t")?.evalTokensPerSecond),
    "tuned_2t_vs_tuned_1t.train": ratio(by("wasm-tuned-2t")?.trainTokensPerSecond, by("wasm-tuned-1t")?.trainTokensPerSecond),
    "tuned_vs_cpu.train": ratio(tuned?.trainTokensPerSecond, by("cpu")?.trainTokensPerSecond),
    "tuned_1t_vs_stock_1t.matmul1024": ratio(by("wasm-tuned-1t")?.matmulGflops1024, by("wasm-stock-1t")?.matmulGflops1024),
    "native_1t_vs_tuned_1t.train": ratio(by("wasm-native-1t")?.trainTokensPerSecond, by("wasm-tuned-1t")?.trainTokensPerSecond),
    "native_1t_vs_tuned_1t.eval": ratio(by("wasm-native-1t")?.evalTokensPerSecond, by("wasm-tuned-1t")?.evalTokensPerSecond),
    "native_1t_vs_tuned_1t.matmul1024": ratio(by("wasm-native-1t")?.matmulGflops1024, by("wasm-tuned-1t")?.matmulGflops1024),
    "tfjs_vs_torch.train": paired !== undefined ? median(paired.rounds.map((r) => r.train)) : undefined,
    "tfjs_vs_torch.eval": paired !== undefined ? median(paired.rounds.map((r) => r.eval)) : undefined,
    "tfjs_vs_torch.train.min":
      paired !== undefined && paired.rounds.length > 1 ? Math.min(...paired.rounds.map((r) => r.train)) : undefined,
    "tfjs_vs_torch.train.max":
      paired !== undefined && paired.rounds.length > 1 ? Math.max(...paired.rounds.map((r) => r.train)) : undefined,
    "tfjs_matmul_vs_sgemm.1024": sgemm.ok ? ratio(bestMatmul, sgemm.value.gflops1024) : undefined,
    "native_matmul_vs_onednn_sgemm.1024":
      sgemmNative?.ok === true ? ratio(nativeBest?.matmulGflops1024, sgemmNative.value.gflops1024) : undefined,
    "gather_vs_onehot.step_time": ratio(withExtras?.embedding?.gatherSecondsPerStep, withExtras?.embedding?.onehotSecondsPerStep),
    // WebGPU (hardware, else the software adapter) against the tuned wasm engine of the same run
    "webgpu_vs_wasm_tuned_1t.train": ratio(
      (by("webgpu") ?? by("webgpu-software"))?.trainTokensPerSecond,
      by("wasm-tuned-1t")?.trainTokensPerSecond
    ),
    "webgpu_vs_wasm_tuned_1t.eval": ratio(
      (by("webgpu") ?? by("webgpu-software"))?.evalTokensPerSecond,
      by("wasm-tuned-1t")?.evalTokensPerSecond
    )
  }
  const ratios = Object.fromEntries(Object.entries(candidates).filter((e): e is [string, number] => e[1] !== undefined))

  const L = REFERENCE_MODEL.seqLength
  const metrics: MetricRecord[] = []
  for (const v of variants) {
    if (!v.ok) continue
    const p = `engine.${v.variant}`
    const push = (name: string, value: number | undefined, unit: string, better: MetricRecord["better"], length: number | null = null) => {
      if (value !== undefined && Number.isFinite(value)) metrics.push({ name: `${p}.${name}`, value, unit, better, length, step: null })
    }
    push("seconds_per_step", v.secondsPerStep, "s", "lower", L)
    push("train_tokens_per_s", v.trainTokensPerSecond, "tokens/s", "higher", L)
    push("eval_tokens_per_s", v.evalTokensPerSecond, "tokens/s", "higher", L)
    push("matmul_512_gflops", v.matmulGflops512, "GFLOP/s", "higher")
    push("matmul_1024_gflops", v.matmulGflops1024, "GFLOP/s", "higher")
    push("peak_rss", v.peakRssMiB, "MiB", "lower")
    if (v.longEval !== undefined) {
      push("eval16x_tokens_per_s", v.longEval.tokensPerSecond, "tokens/s", "higher", v.longEval.length)
      push("eval16x_peak_rss", v.longEval.peakRssAfterMiB, "MiB", "lower", v.longEval.length)
    }
    for (const sc of v.scales ?? []) {
      push(`scale_${sc.scale}.train_tokens_per_s`, sc.trainTokensPerSecond, "tokens/s", "higher", SCALE_LENGTH)
      push(`scale_${sc.scale}.eval_tokens_per_s`, sc.evalTokensPerSecond, "tokens/s", "higher", SCALE_LENGTH)
    }
    if (v.embedding !== undefined) {
      push("vocab256_gather_seconds_per_step", v.embedding.gatherSecondsPerStep, "s", "lower", L)
      push("vocab256_onehot_seconds_per_step", v.embedding.onehotSecondsPerStep, "s", "lower", L)
    }
  }
  if (torch?.ok === true) {
    metrics.push({
      name: "engine.torch.train_tokens_per_s",
      value: torch.value.trainTokensPerSecond,
      unit: "tokens/s",
      better: "none",
      length: L,
      step: null
    })
    metrics.push({
      name: "engine.torch.eval_tokens_per_s",
      value: torch.value.evalTokensPerSecond,
      unit: "tokens/s",
      better: "none",
      length: L,
      step: null
    })
  }
  if (sgemm.ok)
    metrics.push({
      name: "engine.sgemm.matmul_1024_gflops",
      value: sgemm.value.gflops1024,
      unit: "GFLOP/s",
      better: "none",
      length: null,
      step: null
    })
  if (sgemmNative?.ok === true)
    metrics.push({
      name: "engine.sgemm_onednn.matmul_1024_gflops",
      value: sgemmNative.value.gflops1024,
      unit: "GFLOP/s",
      better: "none",
      length: null,
      step: null
    })
  for (const [name, value] of Object.entries(ratios))
    metrics.push({
      name: `engine.ratio.${name}`,
      value,
      unit: "ratio",
      better: name.startsWith("gather_vs") ? "lower" : "higher",
      length: null,
      step: null
    })
  const loadavgAfter = loadavg()
  const load1 = (s: string) => Number(s.split(" ")[0])
  metrics.push({ name: "engine.loadavg_1m.before", value: load1(loadavgBefore), unit: "load", better: "none", length: null, step: null })
  metrics.push({ name: "engine.loadavg_1m.after", value: load1(loadavgAfter), unit: "load", better: "none", length: null, step: null })
  return {
    model: REFERENCE_MODEL,
    variants,
    torch,
    sgemm,
    ...(sgemmNative !== undefined ? { sgemmNative } : {}),
    ratios,
    metrics,
    loadavgBefore,
    loadavgAfter,
    wallSeconds: now() - started,
    notes,
    ...(paired !== undefined ? { paired } : {})
  }
}
