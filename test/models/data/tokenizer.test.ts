import { describe, expect, it } from "vitest"
import { getTokenizer } from "../../../models/data/tokenizer.js"

describe("byte tokenizer", () => {
  const bytes = getTokenizer("bytes")

  it("round-trips ASCII and multi-byte UTF-8 text", () => {
    const text = "Fellow-Citizens: é — 漢字 🙂\n\ttabs"
    const ids = bytes.encode(text)
    expect(ids).toBeInstanceOf(Int32Array)
    expect(ids.length).toBe(Buffer.byteLength(text, "utf8"))
    expect(Array.from(ids).every((i) => i >= 0 && i < 256)).toBe(true)
    expect(bytes.decode(ids)).toBe(text)
    expect(bytes.vocabSize).toBe(256)
  })

  it("rejects ids that are not bytes, naming the id", () => {
    expect(() => bytes.decode([65, 300])).toThrow(/300/)
  })
})

describe("gpt2 tokenizer (r50k_base)", () => {
  const gpt2 = getTokenizer("gpt2")

  it("has GPT-2's vocabulary and round-trips text", () => {
    expect(gpt2.vocabSize).toBe(50257)
    expect(gpt2.id).toMatch(/^gpt-tokenizer@\d+\.\d+\.\d+\/r50k_base$/)
    const text = "The pass key is 12345. Remember it.\n\nGentlemen of the Senate"
    expect(gpt2.decode(gpt2.encode(text))).toBe(text)
    expect(Array.from(gpt2.encode(" 12345."))).toEqual([17031, 2231, 13])
  })

  it("encodes special-token text inside the corpus as plain text", () => {
    const ids = gpt2.encode("a <|endoftext|> b")
    expect(Array.from(ids)).not.toContain(50256)
    expect(gpt2.decode(ids)).toBe("a <|endoftext|> b")
  })
})
