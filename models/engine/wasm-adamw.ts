/**
 * One AdamW update of one parameter as a single WebAssembly SIMD pass over the tfjs wasm heap (assembled by
 * wasm-assembler.ts), instead of the ~16 elementwise kernels models/train/adamw.ts issues per parameter (~350 a
 * step for the reference model, each a full pass over memory plus the engine's bookkeeping).
 *
 * Bitwise the update models/train/adamw.ts computes with tfjs ops: the same float32 operations in the same
 * order, each rounded to float32 (WebAssembly f32 / f32x4 arithmetic is IEEE 754 binary32, no fused multiply-add),
 * with the same float32 constants (a JS number given to an f32 parameter rounds as a float32 tensor does):
 *   g' = g * scale
 *   m' = m * b1 + g' * (1 - b1)
 *   v' = v * b2 + (g' * g') * (1 - b2)
 *   p' = p * decay - (m' / (sqrt(v') / sqrt(1 - b2^t) + eps)) * stepSize
 * where the op path skips "* scale" when scale = 1 and "* decay" when there is no decay: multiplying by 1 is
 * exact, so the fused pass always multiplies. test/models/train/adamw-fused.test.ts checks the equality.
 */
import { Code, F32, I32, V128, cachedModule, instantiate, isSharedMemory, moduleBytes, type WasmMemory } from "./wasm-assembler.js"

// parameters: byte offsets of p, m, v, g and of the three outputs; element count; the float32 constants
const P = 0,
  M = 1,
  V = 2,
  G = 3,
  OUT_P = 4,
  OUT_M = 5,
  OUT_V = 6,
  COUNT = 7
const SCALE = 8,
  B1 = 9,
  OMB1 = 10,
  B2 = 11,
  OMB2 = 12,
  DECAY = 13,
  SC2 = 14,
  EPS = 15,
  STEP = 16
const CONSTANTS = [SCALE, B1, OMB1, B2, OMB2, DECAY, SC2, EPS, STEP]
// locals
const O = 17,
  END4 = 18,
  END = 19 // i32: byte offset, end of the 4-wide part, end
const SPLAT = 20 // v128: SPLAT + c for the c-th constant (9)
const VG = 29,
  VM = 30,
  VV = 31 // v128 temporaries
const SG = 32,
  SM = 33,
  SV = 34 // f32 temporaries

const kernelBody = (): number[] => {
  const c = new Code()
  c.get(COUNT).i32(~3).and().i32(4).mul().set(END4)
  c.get(COUNT).i32(4).mul().set(END)
  CONSTANTS.forEach((param, i) =>
    c
      .get(param)
      .f32x4Splat()
      .set(SPLAT + i)
  )
  const splat = (param: number) => SPLAT + CONSTANTS.indexOf(param)
  c.i32(0).set(O)
  // four lanes at a time
  c.block().loop()
  c.get(O).get(END4).geS().brIf(1)
  c.get(G).get(O).add().v128Load().get(splat(SCALE)).f32x4Mul().set(VG)
  c.get(M).get(O).add().v128Load().get(splat(B1)).f32x4Mul().get(VG).get(splat(OMB1)).f32x4Mul().f32x4Add().set(VM)
  c.get(V).get(O).add().v128Load().get(splat(B2)).f32x4Mul().get(VG).get(VG).f32x4Mul().get(splat(OMB2)).f32x4Mul().f32x4Add().set(VV)
  c.get(OUT_M).get(O).add().get(VM).v128Store()
  c.get(OUT_V).get(O).add().get(VV).v128Store()
  c.get(OUT_P).get(O).add()
  c.get(P).get(O).add().v128Load().get(splat(DECAY)).f32x4Mul()
  c.get(VM).get(VV).f32x4Sqrt().get(splat(SC2)).f32x4Div().get(splat(EPS)).f32x4Add().f32x4Div().get(splat(STEP)).f32x4Mul()
  c.f32x4Sub().v128Store()
  c.bump(O, 16)
  c.br(0)
  c.end().end()
  // the rest one at a time, the same operations
  c.block().loop()
  c.get(O).get(END).geS().brIf(1)
  c.get(G).get(O).add().f32Load().get(SCALE).f32Mul().set(SG)
  c.get(M).get(O).add().f32Load().get(B1).f32Mul().get(SG).get(OMB1).f32Mul().f32Add().set(SM)
  c.get(V).get(O).add().f32Load().get(B2).f32Mul().get(SG).get(SG).f32Mul().get(OMB2).f32Mul().f32Add().set(SV)
  c.get(OUT_M).get(O).add().get(SM).f32Store()
  c.get(OUT_V).get(O).add().get(SV).f32Store()
  c.get(OUT_P).get(O).add()
  c.get(P).get(O).add().f32Load().get(DECAY).f32Mul()
  c.get(SM).get(SV).f32Sqrt().get(SC2).f32Div().get(EPS).f32Add().f32Div().get(STEP).f32Mul()
  c.f32Sub().f32Store()
  c.bump(O, 4)
  c.br(0)
  c.end().end()
  return c.functionBody([
    [3, I32],
    [12, V128],
    [3, F32]
  ])
}

export const adamwModuleBytes = (shared: boolean): Uint8Array =>
  moduleBytes({ shared, name: "adamw", params: [...new Array<number>(8).fill(I32), ...new Array<number>(9).fill(F32)], body: kernelBody() })

/** The float32 constants of one update (see the header for where each enters). */
export interface AdamWConstants {
  readonly scale: number
  readonly beta1: number
  readonly oneMinusBeta1: number
  readonly beta2: number
  readonly oneMinusBeta2: number
  readonly decay: number
  readonly sqrtCorrection2: number
  readonly eps: number
  readonly stepSize: number
}

export type AdamWKernel = (
  p: number,
  m: number,
  v: number,
  g: number,
  outP: number,
  outM: number,
  outV: number,
  count: number,
  c: AdamWConstants
) => void

/** The kernel instantiated over `memory` (the tfjs wasm heap). */
export const instantiateAdamW = (memory: WasmMemory): AdamWKernel => {
  const shared = isSharedMemory(memory)
  const module = cachedModule(`adamw/${shared}`, () => adamwModuleBytes(shared))
  const run = instantiate(module, memory).adamw as (...args: number[]) => void
  return (p, m, v, g, outP, outM, outV, count, c) =>
    run(
      p,
      m,
      v,
      g,
      outP,
      outM,
      outV,
      count,
      c.scale,
      c.beta1,
      c.oneMinusBeta1,
      c.beta2,
      c.oneMinusBeta2,
      c.decay,
      c.sqrtCorrection2,
      c.eps,
      c.stepSize
    )
}
