/**
 * A PNG reader for the tests (node:zlib only, no image dependency): the chunks, IHDR, the IDAT stream inflated,
 * each scanline unfiltered (None, Sub, Up, Average, Paeth), and the pixels as RGBA. It reads what a browser's
 * screenshot is: 8 bits per channel, grey, grey+alpha, RGB, RGBA or palette, not interlaced; anything else throws.
 */
import { inflateSync } from "node:zlib"

export interface Image {
  readonly width: number
  readonly height: number
  /** width * height * 4 bytes, row by row */
  readonly rgba: Uint8Array
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** Channels per pixel of each PNG colour type. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

export const decodePng = (file: Buffer): Image => {
  if (file.length < 8 || SIGNATURE.some((b, i) => file[i] !== b)) throw new Error("not a PNG (bad signature)")
  let offset = 8
  let width = 0
  let height = 0
  let colourType = -1
  let palette: Buffer | null = null
  const idat: Buffer[] = []
  while (offset + 8 <= file.length) {
    const length = file.readUInt32BE(offset)
    const type = file.toString("latin1", offset + 4, offset + 8)
    const data = file.subarray(offset + 8, offset + 8 + length)
    if (data.length !== length) throw new Error(`truncated ${type} chunk`)
    if (type === "IHDR") {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      const bitDepth = data[8]!
      colourType = data[9]!
      if (bitDepth !== 8) throw new Error(`bit depth ${bitDepth} not supported`)
      if (!(colourType in CHANNELS)) throw new Error(`colour type ${colourType} unknown`)
      if (data[12] !== 0) throw new Error("interlaced PNG not supported")
    } else if (type === "PLTE") palette = Buffer.from(data)
    else if (type === "IDAT") idat.push(Buffer.from(data))
    else if (type === "IEND") break
    offset += 12 + length // length, type, data, CRC
  }
  if (width === 0 || height === 0) throw new Error("no IHDR")
  if (colourType === 3 && palette === null) throw new Error("palette image without PLTE")
  const channels = CHANNELS[colourType]!
  const stride = width * channels
  const raw = inflateSync(Buffer.concat(idat))
  if (raw.length < height * (stride + 1)) throw new Error(`IDAT holds ${raw.length} bytes, ${height * (stride + 1)} needed`)
  const pixels = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    const row = y * stride
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[row + x - channels]! : 0
      const b = y > 0 ? pixels[row - stride + x]! : 0
      const c = x >= channels && y > 0 ? pixels[row - stride + x - channels]! : 0
      const predictor =
        filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : -1
      if (predictor < 0) throw new Error(`unknown filter ${filter} on row ${y}`)
      pixels[row + x] = (line[x]! + predictor) & 0xff
    }
  }
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0; i < width * height; i++) {
    const p = pixels.subarray(i * channels, (i + 1) * channels)
    const [r, g, b, alpha] =
      colourType === 0
        ? [p[0]!, p[0]!, p[0]!, 255]
        : colourType === 4
          ? [p[0]!, p[0]!, p[0]!, p[1]!]
          : colourType === 2
            ? [p[0]!, p[1]!, p[2]!, 255]
            : colourType === 6
              ? [p[0]!, p[1]!, p[2]!, p[3]!]
              : [palette![p[0]! * 3]!, palette![p[0]! * 3 + 1]!, palette![p[0]! * 3 + 2]!, 255]
    rgba.set([r, g, b, alpha], i * 4)
  }
  return { width, height, rgba }
}

export const pixelAt = (image: Image, x: number, y: number): [number, number, number, number] => {
  const i = (y * image.width + x) * 4
  return [image.rgba[i]!, image.rgba[i + 1]!, image.rgba[i + 2]!, image.rgba[i + 3]!]
}

export interface ImageStats {
  /** pixels not (near) white: any channel below 245 */
  readonly nonWhite: number
  readonly distinctColours: number
}

/** A pixel as it shows on a white page: a transparent pixel is white, not black. */
const onWhite = (image: Image, i: number): [number, number, number] => {
  const alpha = image.rgba[i * 4 + 3]! / 255
  const over = (v: number) => Math.round(255 - (255 - v) * alpha)
  return [over(image.rgba[i * 4]!), over(image.rgba[i * 4 + 1]!), over(image.rgba[i * 4 + 2]!)]
}

export const imageStats = (image: Image): ImageStats => {
  const colours = new Set<number>()
  let nonWhite = 0
  for (let i = 0; i < image.width * image.height; i++) {
    const [r, g, b] = onWhite(image, i)
    colours.add((r << 16) | (g << 8) | b)
    if (r < 245 || g < 245 || b < 245) nonWhite++
  }
  return { nonWhite, distinctColours: colours.size }
}

/** Pixels within `tolerance` (per channel) of an RGB colour: how much of a chart line's colour is on screen. */
export const countNear = (image: Image, [r, g, b]: readonly [number, number, number], tolerance: number): number => {
  let n = 0
  for (let i = 0; i < image.width * image.height; i++) {
    const [pr, pg, pb] = onWhite(image, i)
    if (Math.abs(pr - r) <= tolerance && Math.abs(pg - g) <= tolerance && Math.abs(pb - b) <= tolerance) n++
  }
  return n
}
