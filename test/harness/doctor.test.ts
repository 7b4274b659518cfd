import { readdirSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { diagnose } from "../../models/engine/doctor.js"
import { renderDoctor } from "../../harness/cli/commands/doctor.js"

describe("harness doctor", () => {
  it("reports every backend with what it needs, every WebGPU adapter, wasm and the NVIDIA driver; writes nothing", async () => {
    const before = readdirSync(".").sort()
    const report = await diagnose()
    expect(report.backends.map((b) => b.backend)).toEqual(["tensorflow", "webgpu", "wasm", "cpu"])
    for (const b of report.backends) {
      expect(b.needs.length).toBeGreaterThan(0)
      expect(b.detail.length).toBeGreaterThan(0)
    }
    expect(report.backends.find((b) => b.backend === "webgpu")!.here).toBe(report.webgpu.adapters.length > 0)
    const text = renderDoctor(report)
    for (const section of ["BACKENDS", "WEBGPU", "WASM", "NVIDIA", "--backend auto here:"]) expect(text).toContain(section)
    for (const a of report.webgpu.adapters) expect(text).toContain(a.description)
    if (report.webgpu.adapters.length === 0) expect(report.webgpu.problems.length).toBeGreaterThan(0)
    expect(readdirSync(".").sort()).toEqual(before)
  })
})
