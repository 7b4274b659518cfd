/**
 * The tests' PNG reader (png.ts) against PNGs written here with every scanline filter, in RGB, RGBA, grey and
 * palette form: a wrong predictor or channel count shows as a wrong pixel. The reader's job in the browser test
 * is to tell a rendered page from a blank one, so a blank image must read as blank too.
 */
import { deflateSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { countNear, decodePng, imageStats, pixelAt } from "./png.js"

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
const crc32 = (bytes: Buffer): number => {
  let c = 0xffffffff
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
const chunk = (type: string, data: Buffer): Buffer => {
  const head = Buffer.alloc(4)
  head.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, "latin1"), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([head, body, crc])
}

/** The filter's predictor, written from the PNG specification independently of the reader's. */
const predict = (filter: number, a: number, b: number, c: number): number => {
  if (filter === 0) return 0
  if (filter === 1) return a
  if (filter === 2) return b
  if (filter === 3) return Math.floor((a + b) / 2)
  const p = a + b - c
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)]
  if (pa <= pb && pa <= pc) return a
  return pb <= pc ? b : c
}

/** A PNG of `samples` (height rows of width * channels bytes), row y filtered with filter y % 5. */
const encode = (width: number, height: number, colourType: number, channels: number, samples: Uint8Array, palette?: Buffer): Buffer => {
  const stride = width * channels
  const rows: Buffer[] = []
  for (let y = 0; y < height; y++) {
    const filter = y % 5
    const out = Buffer.alloc(stride + 1)
    out[0] = filter
    for (let x = 0; x < stride; x++) {
      const at = (yy: number, xx: number) => (yy < 0 || xx < 0 ? 0 : samples[yy * stride + xx]!)
      out[x + 1] = (samples[y * stride + x]! - predict(filter, at(y, x - channels), at(y - 1, x), at(y - 1, x - channels)) + 256) & 0xff
    }
    rows.push(out)
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, colourType, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...(palette ? [chunk("PLTE", palette)] : []),
    // two IDAT chunks: the reader must join them before inflating
    chunk("IDAT", deflateSync(Buffer.concat(rows)).subarray(0, 10)),
    chunk("IDAT", deflateSync(Buffer.concat(rows)).subarray(10)),
    chunk("IEND", Buffer.alloc(0))
  ])
}

/** Deterministic pseudo-random bytes (a linear congruential generator): edges that exercise every predictor. */
const noise = (n: number, seed: number): Uint8Array => {
  const out = new Uint8Array(n)
  let s = seed
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    out[i] = s >>> 24
  }
  return out
}

describe("decodePng", () => {
  it.each([
    ["RGB", 2, 3],
    ["RGBA", 6, 4],
    ["grey", 0, 1],
    ["grey + alpha", 4, 2]
  ] as const)("reads %s with all five filters", (_, colourType, channels) => {
    const [width, height] = [7, 10]
    const samples = noise(width * height * channels, colourType + 1)
    const image = decodePng(encode(width, height, colourType, channels, samples))
    expect([image.width, image.height]).toEqual([width, height])
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const s = Array.from(samples.subarray((y * width + x) * channels, (y * width + x + 1) * channels))
        const expected =
          channels === 3 ? [...s, 255] : channels === 4 ? s : channels === 1 ? [s[0], s[0], s[0], 255] : [s[0], s[0], s[0], s[1]]
        expect(pixelAt(image, x, y), `pixel ${x},${y}`).toEqual(expected)
      }
  })

  it("reads a palette image", () => {
    const palette = Buffer.from([255, 255, 255, 0, 114, 178, 230, 159, 0])
    const indices = Uint8Array.from({ length: 12 }, (_, i) => i % 3)
    const image = decodePng(encode(4, 3, 3, 1, indices, palette))
    expect(pixelAt(image, 1, 0)).toEqual([0, 114, 178, 255])
    expect(pixelAt(image, 2, 0)).toEqual([230, 159, 0, 255])
    expect(countNear(image, [0, 114, 178], 0)).toBe(4)
  })

  it("tells a blank image from a drawn one", () => {
    const white = new Uint8Array(20 * 10 * 3).fill(255)
    expect(imageStats(decodePng(encode(20, 10, 2, 3, white)))).toEqual({ nonWhite: 0, distinctColours: 1 })
    white.set([0, 114, 178], (3 * 20 + 4) * 3)
    expect(imageStats(decodePng(encode(20, 10, 2, 3, white)))).toEqual({ nonWhite: 1, distinctColours: 2 })
    // fully transparent pixels show the white page, whatever their colour channels hold
    expect(imageStats(decodePng(encode(2, 2, 6, 4, new Uint8Array(16))))).toEqual({ nonWhite: 0, distinctColours: 1 })
  })

  it("refuses what it cannot read", () => {
    expect(() => decodePng(Buffer.from("GIF89a not a png"))).toThrow(/signature/)
    const sixteenBit = encode(1, 1, 2, 3, new Uint8Array(3))
    sixteenBit[8 + 8 + 8] = 16 // IHDR's bit depth
    expect(() => decodePng(sixteenBit)).toThrow(/bit depth 16/)
  })
})
