/** `harness doctor`: each backend, what it needs, whether it is here and why not; every WebGPU adapter; the GPU driver. */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { diagnose, type DoctorReport } from "../../../models/engine/doctor.js"
import { describeAdapter } from "../../../models/engine/webgpu.js"
import { runWebGpuParity, type ParityCheck } from "../../../models/engine/webgpu-parity.js"

export const renderDoctor = (r: DoctorReport): string => {
  const lines: string[] = []
  lines.push(`node ${r.node} on ${r.platform}, ${r.cpus} CPU cores, ${r.memoryGiB} GiB`)
  lines.push("", "BACKENDS")
  for (const b of r.backends)
    lines.push(`  ${b.backend.padEnd(10)} ${b.here ? "yes" : "NO "}  ${b.detail}`, `  ${"".padEnd(10)}      needs: ${b.needs}`)
  lines.push(`--backend auto here: ${r.auto}`)
  lines.push("", `WEBGPU (${r.webgpu.dawn ?? "the webgpu package does not load"})`)
  if (r.webgpu.adapters.length === 0) lines.push("  no adapter")
  for (const a of r.webgpu.adapters) {
    lines.push(`  ${describeAdapter(a)}`)
    lines.push(`    vendor "${a.vendor}", architecture "${a.architecture}", device "${a.device}", description "${a.description}"`)
  }
  for (const p of r.webgpu.problems) lines.push(`  ${p}`)
  lines.push(
    `  libraries: ${Object.entries(r.webgpu.libraries)
      .map(([l, ok]) => `${l} ${ok ? "found" : "MISSING"}`)
      .join(", ")}`,
    `  Vulkan ICDs: ${r.webgpu.vulkanIcds.join(", ") || "none"}`,
    `  EGL_PLATFORM: ${r.webgpu.eglPlatform ?? "unset (the harness sets surfaceless for Dawn)"}`,
    `  GPU device nodes: ${r.webgpu.gpuDeviceNodes.join(", ") || "none"}`
  )
  lines.push("", "WASM")
  lines.push(
    "error" in r.wasm
      ? `  does not start: ${r.wasm.error}`
      : `  SIMD ${r.wasm.simd ? "yes" : "no"}; threads: default ${r.wasm.defaultThreads}, up to ${r.wasm.maxThreads} with --threads; matrix products: ${r.wasm.kernelOverrides[0] ?? "stock"}`
  )
  lines.push("", "NVIDIA")
  if ("missing" in r.nvidia) lines.push(`  ${r.nvidia.missing}`)
  else
    for (const g of r.nvidia.gpus)
      lines.push(
        `  ${g.name}: driver ${g.driverVersion}, ${g.memoryTotalMiB} MiB (${g.memoryUsedMiB} used), compute capability ${g.computeCapability}`
      )
  return lines.join("\n")
}

export const renderParity = (checks: ReadonlyArray<ParityCheck>): string => {
  const failed = checks.filter((c) => !c.ok)
  return [
    "WEBGPU PARITY with the cpu backend (max |gpu - cpu| / max(1, max |cpu|); scalars: relative)",
    ...checks.map((c) => `  ${c.ok ? "ok  " : "FAIL"}  ${c.error.toExponential(2)} <= ${c.tolerance.toExponential(0)}  ${c.what}`),
    `${checks.length - failed.length} of ${checks.length} checks within tolerance`
  ].join("\n")
}

export const doctorCommand = Command.make(
  "doctor",
  {
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("the report as JSON")),
    parity: Flag.Boolean("parity").pipe(
      Flag.withDefault(false),
      Flag.withDescription(
        "also compare the WebGPU engine with the cpu backend (every embedding's hooks, decoder forward, one training step); exit 1 when a check fails"
      )
    )
  },
  ({ json, parity }) =>
    Effect.gen(function* () {
      const report = yield* Effect.promise(() => diagnose())
      const checks = parity && report.webgpu.adapters.length > 0 ? yield* Effect.promise(() => runWebGpuParity()) : undefined
      if (json) yield* Console.log(JSON.stringify(checks !== undefined ? { ...report, parity: checks } : report, null, 2))
      else {
        yield* Console.log(renderDoctor(report))
        if (parity) yield* Console.log("\n" + (checks !== undefined ? renderParity(checks) : "WEBGPU PARITY: not run, no adapter"))
      }
      if (parity && (checks === undefined || checks.some((c) => !c.ok))) process.exitCode = 1
    })
).pipe(
  Command.withDescription(
    "What each tensor backend needs and whether this machine has it (native TensorFlow, WebGPU with every adapter Dawn finds, " +
      "wasm threads and SIMD, cpu), the NVIDIA driver's facts when nvidia-smi exists, and what --backend auto would pick. Writes nothing; " +
      "exit 0 (with --parity: 1 when the WebGPU engine disagrees with the cpu backend or has no adapter)."
  ),
  Command.withExamples([
    { command: "harness doctor", description: "the backends here, and why one is missing" },
    {
      command: "harness doctor --parity",
      description: "and check the WebGPU engine against the cpu backend (seconds on a software adapter)"
    }
  ])
)
