/**
 * A small reader and writer for the safetensors format (https://github.com/huggingface/safetensors,
 * "Format" section), so checkpoints open in PyTorch / Hugging Face (`safetensors.torch.load_file`):
 *
 *   bytes 0..7      N, the header length, unsigned 64-bit little-endian
 *   bytes 8..8+N    the header: UTF-8 JSON, starting with '{', may be padded with trailing spaces (0x20).
 *                   { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
 *                     "__metadata__": { "<string>": "<string>" } }
 *   bytes 8+N..     the byte buffer; offsets are relative to its start; tensors are little-endian, row-major,
 *                   contiguous, and cover the buffer without holes or overlaps.
 * This writer pads the header so the buffer starts at a multiple of 8 (the spec allows it; it keeps
 * Float32 data aligned for readers that map the file).
 */

export type SafetensorsDtype = "F32" | "I32"

export interface NamedArray {
  readonly name: string
  readonly dtype: SafetensorsDtype
  readonly shape: ReadonlyArray<number>
  readonly data: Float32Array | Int32Array
}

export interface SafetensorsContent {
  readonly tensors: ReadonlyArray<NamedArray>
  readonly metadata: Readonly<Record<string, string>>
}

export class SafetensorsError extends Error {
  override readonly name = "SafetensorsError"
}

const METADATA_KEY = "__metadata__"
const HEADER_ALIGNMENT = 8

const assertLittleEndian = (): void => {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    throw new SafetensorsError("this machine is big-endian; safetensors data is little-endian and this reader does not swap bytes")
  }
}

const elementCount = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

/** Encodes tensors (in the given order) and string metadata as one safetensors file. */
export const encodeSafetensors = (tensors: ReadonlyArray<NamedArray>, metadata: Readonly<Record<string, string>> = {}): Uint8Array => {
  assertLittleEndian()
  const header: Record<string, unknown> = {}
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string")
        throw new SafetensorsError(`metadata "${k}" must be a string (safetensors allows only string values); JSON-encode it`)
    }
    header[METADATA_KEY] = metadata
  }
  let offset = 0
  const seen = new Set<string>()
  for (const t of tensors) {
    if (t.name === METADATA_KEY) throw new SafetensorsError(`"${METADATA_KEY}" is reserved and cannot name a tensor`)
    if (seen.has(t.name)) throw new SafetensorsError(`tensor "${t.name}" appears twice; names must be unique`)
    seen.add(t.name)
    const expected = t.dtype === "F32" ? Float32Array : Int32Array
    if (!(t.data instanceof expected)) throw new SafetensorsError(`tensor "${t.name}": dtype ${t.dtype} needs a ${expected.name}`)
    if (elementCount(t.shape) !== t.data.length) {
      throw new SafetensorsError(
        `tensor "${t.name}": shape [${t.shape.join(", ")}] has ${elementCount(t.shape)} elements, data has ${t.data.length}`
      )
    }
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] }
    offset += t.data.byteLength
  }
  let json = new TextEncoder().encode(JSON.stringify(header))
  const padded = Math.ceil((8 + json.length) / HEADER_ALIGNMENT) * HEADER_ALIGNMENT - 8
  if (padded > json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20)
    withSpaces.set(json)
    json = withSpaces
  }
  const out = new Uint8Array(8 + json.length + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  let at = 8 + json.length
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at)
    at += t.data.byteLength
  }
  return out
}

/** Decodes a safetensors file, checking the header and that the offsets tile the buffer exactly. */
export const decodeSafetensors = (bytes: Uint8Array, what = "safetensors file"): SafetensorsContent => {
  assertLittleEndian()
  if (bytes.length < 8) throw new SafetensorsError(`${what}: ${bytes.length} bytes is too short for a safetensors header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = Number(view.getBigUint64(0, true))
  if (8 + headerLength > bytes.length) {
    throw new SafetensorsError(
      `${what}: header length ${headerLength} runs past the end of the file (${bytes.length} bytes); the file is truncated or not safetensors`
    )
  }
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength))
  if (!text.startsWith("{")) throw new SafetensorsError(`${what}: the header does not start with '{'`)
  let header: Record<string, unknown>
  try {
    header = JSON.parse(text) as Record<string, unknown>
  } catch (e) {
    throw new SafetensorsError(`${what}: the header is not valid JSON (${(e as Error).message})`)
  }
  const buffer = bytes.subarray(8 + headerLength)
  const metadata = (header[METADATA_KEY] ?? {}) as Record<string, string>
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }> = []
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) continue
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    if (info.dtype !== "F32" && info.dtype !== "I32") {
      throw new SafetensorsError(`${what}: tensor "${name}" has dtype ${String(info.dtype)}; this reader supports F32 and I32`)
    }
    const shape = info.shape as number[]
    const offsets = info.data_offsets as [number, number]
    if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw new SafetensorsError(`${what}: tensor "${name}" lacks shape or data_offsets`)
    }
    const [begin, end] = offsets
    if (end - begin !== elementCount(shape) * 4) {
      throw new SafetensorsError(
        `${what}: tensor "${name}" spans ${end - begin} bytes, shape [${shape.join(", ")}] needs ${elementCount(shape) * 4}`
      )
    }
    entries.push({ name, dtype: info.dtype, shape, begin, end })
  }
  // The offsets must tile the buffer: sorted by begin, each starts where the previous ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin)
  let expected = 0
  for (const e of sorted) {
    if (e.begin !== expected)
      throw new SafetensorsError(`${what}: tensor "${e.name}" starts at byte ${e.begin}, expected ${expected} (holes or overlaps)`)
    expected = e.end
  }
  if (expected !== buffer.length) throw new SafetensorsError(`${what}: tensors cover ${expected} bytes of a ${buffer.length}-byte buffer`)
  const tensors = entries.map((e): NamedArray => {
    const copy = buffer.slice(e.begin, e.end) // a fresh, aligned ArrayBuffer
    const data = e.dtype === "F32" ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer)
    return { name: e.name, dtype: e.dtype, shape: e.shape, data }
  })
  return { tensors, metadata }
}
