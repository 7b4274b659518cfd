/**
 * `harness inspect <embedding> --extension <method> --eval-length N`: an extension's tables without writing code,
 * checked against the formulas (YaRN's temperature on the tables, dynamic NTK following the current length).
 */
import { describe, expect, it } from "vitest"
import { EXTENSION_METHODS } from "../../embeddings/rotary-extensions.js"
import { harness } from "./helpers.js"

interface Dump {
  readonly evalLength: number
  readonly length: number
  readonly extension: { readonly method: string }
  readonly spectrum: { readonly pairFrequencies: number[] }
  readonly rotaryTables: ReadonlyArray<{ readonly q: { readonly cos: number[][][]; readonly sin: number[][][] } }>
}

const inspectJson = async (...args: string[]): Promise<Dump> => {
  const r = await harness("inspect", ...args, "--json")
  expect(r.exitCode, r.err).toBe(0)
  return JSON.parse(r.out) as Dump
}

describe("harness inspect --extension", () => {
  it("rope --extension yarn --eval-length 1024 --json: YaRN's frequencies and its temperature on the tables", async () => {
    const plain = await inspectJson("rope")
    const yarn = await inspectJson("rope", "--extension", "yarn", "--eval-length", "1024")
    expect(yarn.extension.method).toBe("yarn")
    expect(yarn.evalLength).toBe(1024)
    const w = yarn.spectrum.pairFrequencies
    // NTK-by-parts: the fastest pair keeps its frequency, the slowest is interpolated by s = 1024 / 128 = 8
    expect(w[0]).toBeCloseTo(plain.spectrum.pairFrequencies[0]!, 12)
    expect(w[15]! / plain.spectrum.pairFrequencies[15]!).toBeCloseTo(1 / 8, 6)
    // the attention temperature 0.1 ln s + 1 multiplies cos and sin
    const mscale = 0.1 * Math.log(8) + 1
    const t = 5
    const k = 15
    expect(yarn.rotaryTables[0]!.q.cos[0]![t]![k]).toBeCloseTo(mscale * Math.cos(t * w[k]!), 5)
    expect(yarn.rotaryTables[0]!.q.sin[0]![t]![k]).toBeCloseTo(mscale * Math.sin(t * w[k]!), 5)
  })

  it("yarn --extension-param temperature=false drops the temperature", async () => {
    const yarn = await inspectJson("rope", "--extension", "yarn", "--extension-param", "temperature=false", "--eval-length", "1024")
    const w = yarn.spectrum.pairFrequencies
    expect(yarn.rotaryTables[0]!.q.cos[0]![5]![3]).toBeCloseTo(Math.cos(5 * w[3]!), 5)
  })

  it("dynamic NTK's tables follow the current length (--length); its spectrum is the one at the target length", async () => {
    const at256 = await inspectJson("rope", "--extension", "dynamic-ntk", "--eval-length", "1024", "--length", "256")
    const at1024 = await inspectJson("rope", "--extension", "dynamic-ntk", "--eval-length", "1024", "--length", "1024")
    // base at current length l: b * (s*l/L - (s-1))^(d/(d-2)), s = 1024/128 = 8, d = 32; pair 1 turns by base^(-2/d) per position
    const w1 = (l: number): number => (10000 * (8 * (l / 128) - 7) ** (32 / 30)) ** (-2 / 32)
    const angle = (d: Dump): number => Math.atan2(d.rotaryTables[0]!.q.sin[0]![1]![1]!, d.rotaryTables[0]!.q.cos[0]![1]![1]!)
    expect(angle(at256)).toBeCloseTo(w1(256), 6)
    expect(angle(at1024)).toBeCloseTo(w1(1024), 6)
    expect(at256.spectrum.pairFrequencies[1]).toBeCloseTo(w1(1024), 10)
  })

  it("refuses what does not apply, naming the fix", async () => {
    const bias = await harness("inspect", "alibi", "--extension", "yarn", "--eval-length", "512")
    expect(bias.exitCode).not.toBe(0)
    expect(bias.err).toMatch(/alibi \(bias family\) has no inference-time extension "yarn"/)
    const param = await harness("inspect", "rope", "--extension", "pi", "--extension-param", "temperature=true")
    expect(param.err).toMatch(/extension "pi" takes no parameters/)
    const bare = await harness("inspect", "rope", "--eval-length", "512")
    expect(bare.err).toMatch(/--eval-length and --extension-param apply to an extension/)
  })
})

describe("harness list --what extensions", () => {
  it("names every registered extension with its parameters and points at inspect", async () => {
    const r = await harness("list", "--what", "extensions")
    expect(r.exitCode, r.err).toBe(0)
    for (const method of EXTENSION_METHODS.filter((m) => m !== "none")) expect(r.out).toMatch(new RegExp(`^${method}\\s`, "m"))
    expect(r.out).toMatch(/^yarn\s+temperature=true/m)
    expect(r.out).toContain("harness inspect rope --extension yarn --eval-length 1024")
  })
})
