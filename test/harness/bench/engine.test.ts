import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { parseChildRequest } from "../../../harness/bench/engine/child.js"
import { formatEngineBenchTable } from "../../../harness/bench/engine/format.js"
import { peerFile } from "../../../harness/bench/engine/peers.js"
import { runEngineBenchmark } from "../../../harness/bench/engine/run.js"
import { BENCH_VARIANTS, type EngineBenchResult } from "../../../harness/bench/engine/variants.js"
import { REFERENCE_MODEL } from "../../../models/engine/reference-model.js"

describe("engine benchmark plumbing (no benchmark is run here)", () => {
  it("has its variants, each measured in its own child process", () => {
    expect(BENCH_VARIANTS.map((v) => v.name)).toEqual([
      "cpu",
      "wasm-stock-1t",
      "wasm-tuned-1t",
      "wasm-tuned-2t",
      "wasm-native-1t",
      "wasm-native-2t",
      "tensorflow",
      "webgpu",
      "webgpu-software"
    ])
  })

  it("rejects an unknown backend name, listing the valid ones", async () => {
    await expect(runEngineBenchmark({ backends: ["opengl"] })).rejects.toThrow(
      /Unknown bench backend "opengl": use cpu, wasm, tensorflow, webgpu, wasm-stock-1t, wasm-tuned-1t, wasm-tuned-2t, wasm-native-1t/
    )
  })

  it("formats a table with one row per variant, failures, ratios and the machine load", () => {
    const result: EngineBenchResult = {
      model: REFERENCE_MODEL,
      variants: [
        {
          variant: "wasm-tuned-2t",
          ok: true,
          engine: "engine wasm",
          threads: 2,
          steps: 10,
          secondsPerStep: 0.25,
          trainTokensPerSecond: 4096,
          trainGflops: 11.5,
          evalTokensPerSecond: 12000,
          matmulGflops512: 30,
          matmulGflops1024: 33,
          peakRssMiB: 300,
          finalLoss: 4.1,
          tensorsConstant: true,
          loadavgBefore: "0.50 0.40 0.30 1/100 5",
          loadavgAfter: "1.50 0.60 0.35 1/100 6"
        },
        { variant: "cpu", ok: false, error: "child exited 1: boom" }
      ],
      torch: { ok: false, note: "PyTorch not installed" },
      sgemm: { ok: true, value: { library: "/usr/lib/libopenblas.so.0", threads: 2, gflops512: 60, gflops1024: 66 } },
      ratios: { "tfjs_matmul_vs_sgemm.1024": 0.5 },
      metrics: [],
      loadavgBefore: "0.50 0.40 0.30 1/100 5",
      loadavgAfter: "1.50 0.60 0.35 1/100 6",
      wallSeconds: 100,
      notes: ["torch: PyTorch not installed"]
    }
    const table = formatEngineBenchTable(result)
    expect(table).toContain(
      "| wasm-tuned-2t | 2 | 0.250 | 4096 | 11.5 | 12000 | 30.0 | 33.0 | 300 | 10 | 0.50 0.40 0.30 -> 1.50 0.60 0.35 |"
    )
    expect(table).toContain("| cpu | failed: child exited 1: boom |")
    expect(table).toContain("| openblas sgemm | 2 | - | - | - | - | 60.0 | 66.0 |")
    expect(table).toContain("tfjs_matmul_vs_sgemm.1024 0.50")
    expect(table).toContain("2.87 GFLOP per training step")
    expect(table).toContain("- note: torch: PyTorch not installed")
  })
  it("shows the paired tfjs/PyTorch rounds behind the median ratios", () => {
    const round = (tfjs: number, torch: number) => ({
      trainVariant: "wasm-tuned-2t",
      evalVariant: "wasm-tuned-1t",
      tfjsTrainTokensPerSecond: tfjs,
      tfjsEvalTokensPerSecond: 3 * tfjs,
      torchTrainTokensPerSecond: torch,
      torchEvalTokensPerSecond: 4 * torch,
      train: tfjs / torch,
      eval: (3 * tfjs) / (4 * torch)
    })
    const result: EngineBenchResult = {
      model: REFERENCE_MODEL,
      variants: [],
      torch: null,
      sgemm: { ok: false, note: "no openblas" },
      ratios: { "tfjs_vs_torch.train": 0.62 },
      metrics: [],
      loadavgBefore: "0.1",
      loadavgAfter: "0.2",
      wallSeconds: 1,
      notes: [],
      paired: { variants: ["wasm-tuned-1t", "wasm-tuned-2t"], rounds: [round(6000, 10000), round(6200, 10000), round(7000, 10000)] }
    }
    const table = formatEngineBenchTable(result)
    expect(table).toContain("Paired rounds: wasm-tuned-1t, wasm-tuned-2t and PyTorch back to back")
    expect(table).toContain("- round 2: train 6200 (wasm-tuned-2t) vs 10000 tokens/s = 0.62; eval 18600 (wasm-tuned-1t) vs 40000 = 0.47")
    expect(table).toContain("tfjs_vs_torch.train 0.62")
  })
  it("tables the harness decoder's tokens/s per CPU scale and variant", () => {
    const scale = (name: string, train: number, ev: number) => ({
      scale: name,
      steps: 5,
      secondsPerStep: 1024 / train,
      trainTokensPerSecond: train,
      evalTokensPerSecond: ev
    })
    const result: EngineBenchResult = {
      model: REFERENCE_MODEL,
      variants: [
        {
          variant: "wasm-tuned-1t",
          ok: true,
          threads: 1,
          steps: 10,
          scales: [scale("nano", 10471, 33095), scale("micro", 3112, 10288), scale("mini", 715, 2362)]
        },
        { variant: "cpu", ok: true, threads: 1, steps: 2, scales: [scale("nano", 90, 400)] }
      ],
      torch: null,
      sgemm: { ok: false, note: "no openblas" },
      ratios: {},
      metrics: [],
      loadavgBefore: "0.1",
      loadavgAfter: "0.2",
      wallSeconds: 1,
      notes: []
    }
    const table = formatEngineBenchTable(result)
    expect(table).toContain("| variant | nano | micro | mini |")
    expect(table).toContain("| wasm-tuned-1t | 10471 / 33095 | 3112 / 10288 | 715 / 2362 |")
    expect(table).toContain("| cpu | 90 / 400 | - | - |")
  })

  it("reads its peer programs from real files beside it", () => {
    expect(readFileSync(peerFile("reference_model.py")!, "utf8")).toContain("torch.optim.Adam")
    const sgemm = readFileSync(peerFile("sgemm.c")!, "utf8")
    expect(sgemm).toContain("cblas_sgemm")
    expect(sgemm).toContain("SGEMM_ONEDNN")
    expect(peerFile("no-such-peer.c")).toBeNull()
  })

  it("checks a child's request field by field", () => {
    expect(parseChildRequest('{"variant":"cpu","steps":2,"embeddingComparison":false,"scales":true}')).toEqual({
      variant: "cpu",
      steps: 2,
      embeddingComparison: false,
      scales: true
    })
    expect(parseChildRequest('{"variant":"cpu","steps":2,"embeddingComparison":true}')).toEqual({
      variant: "cpu",
      steps: 2,
      embeddingComparison: true
    })
    expect(() => parseChildRequest('{"variant":"cpu","steps":0,"embeddingComparison":false}')).toThrow(/steps must be a positive integer/)
    expect(() => parseChildRequest(undefined)).toThrow(/usage: node child.js/)
  })
})
