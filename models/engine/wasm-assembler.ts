/**
 * A minimal WebAssembly binary encoder: just what the hand-written kernels of this folder need (one exported
 * function over an imported memory; i32 / f32 scalars, f32x4 SIMD, structured loops). No toolchain is
 * involved at install time: the kernels are assembled from their TypeScript description when first used.
 * Encodings: WebAssembly core specification 2.0 (binary format, including the fixed-width SIMD instructions),
 * and relaxed SIMD's f32x4.relaxed_madd.
 */
import v8 from "node:v8"

export const I32 = 0x7f
export const F32 = 0x7d
export const V128 = 0x7b

const uleb = (n: number): number[] => {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

const sleb = (n: number): number[] => {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

const utf8 = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, "utf8")]
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body]
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()]

const simd = (op: number): number[] => [0xfd, ...uleb(op)]

/** Instruction emitter: each method appends one instruction. */
export class Code {
  readonly bytes: number[] = []
  private emit(...b: number[]): this {
    this.bytes.push(...b)
    return this
  }
  get(local: number) {
    return this.emit(0x20, ...uleb(local))
  }
  set(local: number) {
    return this.emit(0x21, ...uleb(local))
  }
  i32(n: number) {
    return this.emit(0x41, ...sleb(n))
  }
  add() {
    return this.emit(0x6a)
  }
  sub() {
    return this.emit(0x6b)
  }
  mul() {
    return this.emit(0x6c)
  }
  and() {
    return this.emit(0x71)
  }
  geS() {
    return this.emit(0x4e)
  }
  ltS() {
    return this.emit(0x48)
  }
  eqz() {
    return this.emit(0x45)
  }
  select() {
    return this.emit(0x1b)
  }
  block() {
    return this.emit(0x02, 0x40)
  }
  loop() {
    return this.emit(0x03, 0x40)
  }
  ifV128() {
    return this.emit(0x04, V128)
  }
  else() {
    return this.emit(0x05)
  }
  br(depth: number) {
    return this.emit(0x0c, ...uleb(depth))
  }
  brIf(depth: number) {
    return this.emit(0x0d, ...uleb(depth))
  }
  end() {
    return this.emit(0x0b)
  }
  f32Load(offset = 0) {
    return this.emit(0x2a, 2, ...uleb(offset))
  }
  f32Store(offset = 0) {
    return this.emit(0x38, 2, ...uleb(offset))
  }
  f32Const0() {
    return this.emit(0x43, 0, 0, 0, 0)
  }
  f32Add() {
    return this.emit(0x92)
  }
  f32Sub() {
    return this.emit(0x93)
  }
  f32Mul() {
    return this.emit(0x94)
  }
  f32Div() {
    return this.emit(0x95)
  }
  f32Sqrt() {
    return this.emit(0x91)
  }
  v128Load(offset = 0) {
    return this.emit(...simd(0x00), 4, ...uleb(offset))
  }
  v128Store(offset = 0) {
    return this.emit(...simd(0x0b), 4, ...uleb(offset))
  }
  v128Zero() {
    return this.emit(...simd(0x0c), ...new Array<number>(16).fill(0))
  }
  f32x4Splat() {
    return this.emit(...simd(0x13))
  }
  f32x4ExtractLane(lane: number) {
    return this.emit(...simd(0x1f), lane)
  }
  f32x4Sqrt() {
    return this.emit(...simd(0xe3))
  }
  f32x4Add() {
    return this.emit(...simd(0xe4))
  }
  f32x4Sub() {
    return this.emit(...simd(0xe5))
  }
  f32x4Mul() {
    return this.emit(...simd(0xe6))
  }
  f32x4Div() {
    return this.emit(...simd(0xe7))
  }
  /** relaxed SIMD (a b c -> a * b + c, fused or not as the platform does it; V8: --experimental-wasm-relaxed-simd) */
  f32x4RelaxedMadd() {
    return this.emit(...simd(0x105))
  }
  /** local += step (i32) */
  bump(local: number, step: number | { local: number }) {
    this.get(local)
    if (typeof step === "number") this.i32(step)
    else this.get(step.local)
    return this.add().set(local)
  }
  /** The code entry: local declarations ([count, type] runs, after the parameters) + these instructions + end. */
  functionBody(locals: ReadonlyArray<readonly [number, number]>): number[] {
    const body = [...vector(locals.map(([n, t]) => [...uleb(n), t])), ...this.bytes, 0x0b]
    return [...uleb(body.length), ...body]
  }
}

/**
 * A module of one function `name(params) -> ()` over an imported `env.memory`; `shared`: the memory is a shared
 * one (tfjs's threaded build: 4 GiB maximum), else a plain one of any size.
 */
export const moduleBytes = (spec: {
  shared: boolean
  name: string
  params: ReadonlyArray<number>
  results?: ReadonlyArray<number>
  body: number[]
}): Uint8Array => {
  const funcType = [0x60, ...vector(spec.params.map((t) => [t])), ...vector((spec.results ?? []).map((t) => [t]))]
  const memoryType = spec.shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)]
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector([funcType])),
    ...section(2, vector([[...utf8("env"), ...utf8("memory"), 0x02, ...memoryType]])),
    ...section(3, vector([uleb(0)])),
    ...section(7, vector([[...utf8(spec.name), 0x00, ...uleb(0)]])),
    ...section(10, vector([spec.body]))
  ])
}

/**
 * Relaxed SIMD (f32x4.relaxed_madd) on this Node: V8 11.3 (Node 20) has it behind --experimental-wasm-relaxed-simd,
 * which is set here at run time (V8 reads wasm feature flags when it compiles a module); later V8s ship it.
 * `fused`: whether relaxed_madd rounds once (the CPU's FMA) -- a probe where the two roundings differ:
 * (1 + 2^-23)(1 - 2^-23) - 1 is -2^-46 fused and 0 unfused. Checked once per process.
 */
let relaxed: { readonly available: boolean; readonly fused: boolean } | undefined
export const relaxedSimd = (): { readonly available: boolean; readonly fused: boolean } => {
  if (relaxed !== undefined) return relaxed
  const c = new Code()
  c.get(0).f32x4Splat().get(1).f32x4Splat().get(2).f32x4Splat().f32x4RelaxedMadd().f32x4ExtractLane(0)
  const bytes = moduleBytes({ shared: false, name: "probe", params: [F32, F32, F32], results: [F32], body: c.functionBody([]) })
  const tryProbe = (): { available: boolean; fused: boolean } | undefined => {
    try {
      const probe = instantiate(compileModule(bytes), new wasmMemoryApi.Memory({ initial: 1 })).probe as (
        a: number,
        b: number,
        c: number
      ) => number
      return { available: true, fused: probe(1 + 2 ** -23, 1 - 2 ** -23, -1) !== 0 }
    } catch {
      return undefined
    }
  }
  // shipped (Node 22+): no flag needed, and none set (a V8 that no longer knows the flag would warn about it)
  let found = tryProbe()
  if (found === undefined) {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd")
    found = tryProbe()
  }
  relaxed = found ?? { available: false, fused: false }
  return relaxed
}

/** The parts of the WebAssembly JS API used here (this project's TypeScript lib has no DOM/WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
const wasmMemoryApi = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemory } }).WebAssembly

/**
 * Compiled straight to optimised code (V8's TurboFan), not first to its baseline compiler (Liftoff) with a
 * background tier-up: on a 2-core machine whose cores both run products, that background compile got so little CPU
 * that the first few dozen steps ran markedly slower (docs/engine-measurements.md). The flag is V8's, set for this
 * synchronous compile only.
 */
export const compileModule = (bytes: Uint8Array): object => {
  v8.setFlagsFromString("--no-liftoff")
  try {
    return new wasmApi.Module(bytes)
  } finally {
    v8.setFlagsFromString("--liftoff")
  }
}

const compiledByKey = new Map<string, object>()
/** The module compiled once per `key` (a kernel and its variant: memory kind, blocking, ...), from `bytes()`. */
export const cachedModule = (key: string, bytes: () => Uint8Array): object => {
  let module = compiledByKey.get(key)
  if (module === undefined) {
    module = compileModule(bytes())
    compiledByKey.set(key, module)
  }
  return module
}

/** The exports of `module` instantiated over `memory`. */
export const instantiate = (module: object, memory: WasmMemory): Record<string, unknown> =>
  new wasmApi.Instance(module, { env: { memory } }).exports

/** Whether `memory` is shared (tfjs's threaded build), i.e. a helper worker can compute over it too. */
export const isSharedMemory = (memory: WasmMemory): boolean =>
  typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer

/** The heap of a tfjs wasm backend module: the threaded build's shared Memory, or the single-threaded instance's export. */
export const backendMemory = (wasmModule: unknown): WasmMemory => {
  const module = wasmModule as { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } }
  const memory = module.wasmMemory ?? module.asm?.memory
  if (memory === undefined) throw new Error("the tfjs wasm backend exposes no memory (tfjs-backend-wasm changed? it is pinned at 4.22.0)")
  return memory
}
