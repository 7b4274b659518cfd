import * as tf from "@tensorflow/tfjs"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadModelWeights, readCheckpointModel } from "../../models/checkpoint/checkpoint.js"
import { CheckpointError } from "../../models/checkpoint/manifest.js"
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../../models/checkpoint/safetensors.js"
import { Decoder } from "../../models/decoder.js"
import { Trainer } from "../../models/train/trainer.js"
import { rope, shapeOf, useCpu } from "./decoder-helpers.js"
import { repeatedText, tinyConfig, tinySpec } from "./train-helpers.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fope-checkpoint-test-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe("safetensors", () => {
  const tensors = [
    { name: "a.weight", dtype: "F32" as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4.5, -5, 6e-30]) },
    { name: "b", dtype: "I32" as const, shape: [3], data: Int32Array.from([7, -8, 2147483647]) },
    { name: "scalar", dtype: "F32" as const, shape: [], data: Float32Array.from([Math.PI]) }
  ]

  it("round-trips tensors and metadata", () => {
    const bytes = encodeSafetensors(tensors, { step: "12", note: "x" })
    const back = decodeSafetensors(bytes)
    expect(back.metadata).toEqual({ step: "12", note: "x" })
    expect(back.tensors.map((t) => [t.name, t.dtype, t.shape, Array.from(t.data)])).toEqual(
      tensors.map((t) => [t.name, t.dtype, t.shape, Array.from(t.data)])
    )
  })

  it("lays bytes out as the spec says: u64 LE header length, JSON header, contiguous little-endian data", () => {
    const bytes = encodeSafetensors(tensors, { step: "12" })
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const n = Number(view.getBigUint64(0, true))
    expect((8 + n) % 8).toBe(0) // this writer aligns the data to 8 bytes (spec: optional)
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n))
    expect(headerText[0]).toBe("{")
    expect(headerText.trimEnd().length + (n - headerText.trimEnd().length)).toBe(n) // padding is spaces only
    const header = JSON.parse(headerText) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>
    expect(header.__metadata__).toEqual({ step: "12" })
    expect(header["a.weight"]).toEqual({ dtype: "F32", shape: [2, 3], data_offsets: [0, 24] })
    expect(header["b"]).toEqual({ dtype: "I32", shape: [3], data_offsets: [24, 36] })
    expect(header["scalar"]).toEqual({ dtype: "F32", shape: [], data_offsets: [36, 40] })
    expect(bytes.length).toBe(8 + n + 40)
    // little-endian float32 at the right place: a.weight[3] = 4.5, b[1] = -8
    expect(view.getFloat32(8 + n + 3 * 4, true)).toBe(4.5)
    expect(view.getInt32(8 + n + 24 + 4, true)).toBe(-8)
  })

  it("refuses truncated files and holes", () => {
    const bytes = encodeSafetensors(tensors)
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(SafetensorsError)
    const header = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    const bad = new Uint8Array(8 + header.length + 8)
    new DataView(bad.buffer).setBigUint64(0, BigInt(header.length), true)
    bad.set(new TextEncoder().encode(header), 8)
    expect(() => decodeSafetensors(bad)).toThrow(/holes or overlaps/)
  })
})

describe("checkpoints", () => {
  beforeAll(useCpu)

  const makeModel = (seed = 11): Decoder => Decoder.create(tinyConfig, rope(shapeOf(tinyConfig)), seed)
  const spec = tinySpec({ steps: 6 })
  const data = repeatedText()

  it("resume == uninterrupted: identical loss sequence (bitwise on cpu), weights and checkpoint hash", () => {
    // uninterrupted: 6 steps
    const m1 = makeModel()
    const t1 = Trainer.create(m1, data, spec, 21)
    const full: number[] = []
    while (!t1.done) full.push(t1.next().loss)
    const fullCheckpoint = t1.checkpoint(path.join(tmp, "full"))

    // interrupted after 3 steps, checkpointed, resumed into a fresh model and trainer
    const m2 = makeModel()
    const t2 = Trainer.create(m2, data, spec, 21)
    for (let i = 0; i < 3; i++) t2.next()
    const mid = t2.checkpoint(path.join(tmp, "mid"))
    expect(mid.sha256).toMatch(/^[0-9a-f]{64}$/)
    t2.dispose()
    m2.dispose()

    const m3 = makeModel(999) // other init: every weight must come from the checkpoint
    const t3 = Trainer.resume(path.join(tmp, "mid"), m3, data)
    expect(t3.step).toBe(3)
    const resumed: number[] = []
    while (!t3.done) resumed.push(t3.next().loss)
    expect(resumed).toEqual(full.slice(3)) // exact equality per element
    expect(t3.history.map((h) => h.loss)).toEqual(full)
    for (let i = 0; i < m1.namedTrainable.length; i++) {
      expect(Array.from(m3.namedTrainable[i]![1].dataSync())).toEqual(Array.from(m1.namedTrainable[i]![1].dataSync()))
    }
    // m3 was created with another seed, so config.json / state.json differ in "seed"; with the same seed
    // the checkpoint would be byte-identical. Check that on a second uninterrupted run instead:
    const m4 = makeModel()
    const t4 = Trainer.create(m4, data, spec, 21)
    while (!t4.done) t4.next()
    expect(t4.checkpoint(path.join(tmp, "full-again")).sha256).toBe(fullCheckpoint.sha256)
    for (const x of [t1, t3, t4]) x.dispose()
    for (const x of [m1, m3, m4]) x.dispose()
  })

  it("writes the documented files, names and manifest; the embedding's fixed tensors are saved", () => {
    const model = makeModel()
    const trainer = Trainer.create(model, data, spec, 1)
    trainer.next()
    const dir = path.join(tmp, "files")
    const saved = trainer.checkpoint(dir)
    expect(fs.readdirSync(dir).sort()).toEqual(["config.json", "manifest.json", "model.safetensors", "optimizer.safetensors", "state.json"])
    const weights = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, "model.safetensors"))))
    const names = weights.tensors.map((t) => t.name)
    expect(names).toContain("blocks.0.attn.q.weight")
    expect(names).toContain("blocks.1.mlp.down.weight")
    expect(names).toContain("tok_embeddings.weight")
    expect(names).toContain("lm_head.weight")
    expect(names).toContain("pos.rope-test.freqs.layer0")
    expect(weights.tensors.find((t) => t.name === "blocks.1.mlp.down.weight")!.shape).toEqual([128, 32])
    const optimizer = decodeSafetensors(new Uint8Array(fs.readFileSync(path.join(dir, "optimizer.safetensors"))))
    expect(optimizer.metadata.step).toBe("1")
    expect(optimizer.tensors.map((t) => t.name)).toContain("exp_avg_sq.blocks.0.attn.q.weight")
    const state = JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8"))
    expect(state.step).toBe(1)
    expect(state.sampler.cursor).toBe(1)
    expect(state.sampler.rng["data-order"].s).toHaveLength(4)
    expect(state.model.embedding.name).toBe("rope-test")
    expect(state.history).toHaveLength(1)
    const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"))
    expect(config).toMatchObject({ vocabSize: 256, dModel: 32, heads: 2, layers: 2, ffnHidden: 128, tiedEmbeddings: false })
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"))
    expect(Object.keys(manifest.files).sort()).toEqual(["config.json", "model.safetensors", "optimizer.safetensors", "state.json"])
    expect(readCheckpointModel(dir).config).toEqual(tinyConfig)
    expect(saved.path).toBe(dir)
    trainer.dispose()
    model.dispose()
  })

  it("a trained checkpoint loads into a fresh model for evaluation (same logits)", () => {
    const model = makeModel()
    const trainer = Trainer.create(model, data, spec, 2)
    trainer.next()
    trainer.next()
    const dir = path.join(tmp, "eval")
    trainer.checkpoint(dir)
    const fresh = makeModel(5)
    const { state } = loadModelWeights(fresh, dir)
    expect(state.step).toBe(2)
    const tokens = tf.tensor2d(data.subarray(0, 17), [1, 17], "int32")
    const a = model.tokenLosses(tokens)
    const b = fresh.tokenLosses(tokens)
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()))
    tf.dispose([tokens, a, b])
    trainer.dispose()
    model.dispose()
    fresh.dispose()
  })

  it("refuses a checkpoint whose file changed, naming the file; and a model of another shape", () => {
    const model = makeModel()
    const trainer = Trainer.create(model, data, spec, 3)
    trainer.next()
    const dir = path.join(tmp, "tampered")
    trainer.checkpoint(dir)
    const other = Decoder.create({ ...tinyConfig, layers: 1 }, rope(shapeOf({ ...tinyConfig, layers: 1 })), 1)
    expect(() => Trainer.resume(dir, other, data)).toThrow(/build the model from the checkpoint's config.json/)
    expect(() => Trainer.resume(dir, model, repeatedText(41))).toThrow(/other data/)
    const file = path.join(dir, "optimizer.safetensors")
    const bytes = fs.readFileSync(file)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff
    fs.writeFileSync(file, bytes)
    expect(() => Trainer.resume(dir, model, data)).toThrow(CheckpointError)
    expect(() => Trainer.resume(dir, model, data)).toThrow(/optimizer\.safetensors does not match its manifest/)
    fs.rmSync(path.join(dir, "manifest.json"))
    expect(() => Trainer.resume(dir, model, data)).toThrow(/manifest.json is missing/)
    trainer.dispose()
    model.dispose()
    other.dispose()
  })
})

describe("checkpoint saves never lose the previous checkpoint", () => {
  it("a save that fails half-way (here: an unwritable file name) keeps the previous checkpoint loadable", async () => {
    const { mkdtempSync, existsSync, readdirSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const { join } = await import("node:path")
    const { writeCheckpointFiles, readVerifiedFiles, recoverCheckpoint } = await import("../../models/checkpoint/manifest.js")
    const dir = join(mkdtempSync(join(tmpdir(), "ckpt-")), "job")
    const first = writeCheckpointFiles(dir, [
      ["a.txt", "one"],
      ["b.txt", "two"]
    ])
    expect(() =>
      writeCheckpointFiles(dir, [
        ["a.txt", "NEW"],
        ["missing-folder/b.txt", "x"]
      ])
    ).toThrow()
    const { files, sha256 } = readVerifiedFiles(dir)
    expect(sha256).toBe(first.sha256)
    expect(new TextDecoder().decode(files.get("a.txt"))).toBe("one")
    expect(readdirSync(join(dir, "..")).filter((n) => n.includes("staging"))).toEqual([])
    // a crash between the two renames leaves only the retired copy: recovery puts it back
    const { renameSync } = await import("node:fs")
    renameSync(dir, `${dir}.retired-12345`)
    recoverCheckpoint(dir)
    expect(existsSync(join(dir, "manifest.json"))).toBe(true)
    expect(readVerifiedFiles(dir).sha256).toBe(first.sha256)
  })
})
