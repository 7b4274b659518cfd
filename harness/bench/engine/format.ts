/** The engine benchmark's result as a Markdown table with its notes (what `harness bench engine` prints). */
import { trainStepFlops } from "../../../models/engine/reference-model.js"
import { BENCH_SCALES, SCALE_BATCH, SCALE_LENGTH, type EngineBenchResult } from "./variants.js"

const fmt = (x: number | undefined, digits = 0): string => (x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits))

/** A markdown table of the run. */
export const formatEngineBenchTable = (r: EngineBenchResult): string => {
  const m = r.model
  const lines = [
    `Reference model: ${m.layers} layers, d=${m.dModel}, ${m.heads} heads, ffn ${m.ffnHidden}, vocab ${m.vocab}, batch ${m.batch} x ${m.seqLength} tokens, ` +
      `${(trainStepFlops(m) / 1e9).toFixed(2)} GFLOP per training step`,
    "",
    "| variant | threads | s/step | train tok/s | train GFLOP/s | eval tok/s | matmul 512^3 GFLOP/s | matmul 1024^3 GFLOP/s | peak RSS MiB | steps | loadavg before -> after |",
    "|---|---|---|---|---|---|---|---|---|---|---|"
  ]
  for (const v of r.variants) {
    if (!v.ok) {
      lines.push(`| ${v.variant} | failed: ${v.error} |`)
      continue
    }
    lines.push(
      `| ${v.variant} | ${v.threads} | ${fmt(v.secondsPerStep, 3)} | ${fmt(v.trainTokensPerSecond)} | ${fmt(v.trainGflops, 1)} | ${fmt(v.evalTokensPerSecond)} | ` +
        `${fmt(v.matmulGflops512, 1)} | ${fmt(v.matmulGflops1024, 1)} | ${fmt(v.peakRssMiB)} | ${v.steps} | ${v.loadavgBefore?.split(" ").slice(0, 3).join(" ")} -> ${v.loadavgAfter?.split(" ").slice(0, 3).join(" ")} |`
    )
  }
  if (r.torch?.ok === true) {
    const t = r.torch.value
    lines.push(
      `| pytorch ${t.torchVersion} (best of 2 thread splits${t.blasCore !== undefined ? `, OPENBLAS_CORETYPE=${t.blasCore}` : ""}) | ${t.threads} torch + ${t.blasThreads} openblas | ${fmt(t.secondsPerStep, 3)} | ${fmt(t.trainTokensPerSecond)} | ${fmt(trainStepFlops(m) / t.secondsPerStep / 1e9, 1)} | ${fmt(t.evalTokensPerSecond)} | - | - | - | - | - |`
    )
  }
  if (r.sgemm.ok) {
    const s = r.sgemm.value
    lines.push(
      `| openblas sgemm${s.library.includes("OPENBLAS_CORETYPE") ? ` (${s.library.replace(/^.*\((.*)\)$/, "$1")})` : ""} | ${s.threads} | - | - | - | - | ${fmt(s.gflops512, 1)} | ${fmt(s.gflops1024, 1)} | - | - | - |`
    )
  }
  if (r.sgemmNative?.ok === true) {
    const s = r.sgemmNative.value
    lines.push(`| onednn sgemm | ${s.threads} | - | - | - | - | ${fmt(s.gflops512, 1)} | ${fmt(s.gflops1024, 1)} | - | - | - |`)
  }
  const withScales = r.variants.filter((v) => v.ok && v.scales !== undefined && v.scales.length > 0)
  if (withScales.length > 0) {
    lines.push(
      "",
      `The harness's decoder (RoPE, byte vocabulary) at the CPU scales, batch ${SCALE_BATCH} x ${SCALE_LENGTH}: train / eval tokens/s`,
      ""
    )
    lines.push(`| variant | ${BENCH_SCALES.join(" | ")} |`, `|---|${BENCH_SCALES.map(() => "---").join("|")}|`)
    for (const v of withScales) {
      const cell = (name: string) => {
        const sc = v.scales?.find((x) => x.scale === name)
        return sc === undefined ? "-" : `${fmt(sc.trainTokensPerSecond)} / ${fmt(sc.evalTokensPerSecond)}`
      }
      lines.push(`| ${v.variant} | ${BENCH_SCALES.map(cell).join(" | ")} |`)
    }
  }
  const emb = r.variants.find((v) => v.embedding !== undefined)
  if (emb?.embedding !== undefined) {
    const e = emb.embedding
    lines.push(
      "",
      `Embedding at vocab ${e.vocab}, d ${m.dModel} (${emb.variant}): gather ${fmt(e.gatherSecondsPerStep, 3)} s/step, one-hot matmul ${fmt(e.onehotSecondsPerStep, 3)} s/step.`
    )
  }
  const long = r.variants.find((v) => v.longEval !== undefined)
  if (long?.longEval !== undefined) {
    const e = long.longEval
    lines.push(
      `Evaluation at 16x the training length (${e.length} tokens, batch 1, attention in query blocks of ${e.queryChunk}; ${long.variant}): ` +
        `${fmt(e.tokensPerSecond)} tokens/s, peak RSS ${fmt(e.peakRssBeforeMiB)} -> ${fmt(e.peakRssAfterMiB)} MiB.`
    )
  }
  if (r.paired !== undefined) {
    lines.push(
      "",
      `Paired rounds: ${r.paired.variants.join(", ")} and PyTorch back to back; tfjs's best of each round against PyTorch (the tfjs/PyTorch ratios below are their medians):`
    )
    r.paired.rounds.forEach((p, i) =>
      lines.push(
        `- round ${i + 1}: train ${fmt(p.tfjsTrainTokensPerSecond)} (${p.trainVariant}) vs ${fmt(p.torchTrainTokensPerSecond)} tokens/s = ${p.train.toFixed(2)}; ` +
          `eval ${fmt(p.tfjsEvalTokensPerSecond)} (${p.evalVariant}) vs ${fmt(p.torchEvalTokensPerSecond)} = ${p.eval.toFixed(2)}`
      )
    )
  }
  lines.push(
    "",
    "Ratios (same run): " +
      (Object.entries(r.ratios)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(", ") || "none")
  )
  lines.push(`Machine load: before ${r.loadavgBefore} | after ${r.loadavgAfter} | wall ${r.wallSeconds.toFixed(0)} s`)
  for (const v of r.variants)
    if (v.ok) lines.push(`- ${v.variant}: ${v.engine}${v.tensorsConstant === false ? " | WARNING: tensor count grew across steps" : ""}`)
  for (const n of r.notes) lines.push(`- note: ${n}`)
  return lines.join("\n")
}
