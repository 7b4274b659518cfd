/**
 * Inline Markdown, as the report's sections and escapers write it (harness/report/escape.ts), to HTML: code spans
 * of any fence length, **strong**, *emphasis*, backslash escapes, and `&lt;` (the one entity the escapers emit).
 * Every other character is HTML-escaped, so text that came from the ledger can never open a tag or an attribute.
 * Not a general Markdown renderer: it reads the subset this repository writes, which keeps it small and exact.
 */
import { escapeXml } from "../escape.js"

/** CommonMark's backslash-escapable characters: ASCII punctuation. */
const ESCAPABLE = /^[!-/:-@[-`{-~]$/

/** Where a run of exactly `length` backticks starts at or after `from`, or -1 (a code span's closing fence). */
const closingFence = (md: string, from: number, length: number): number => {
  let i = md.indexOf("`", from)
  while (i >= 0) {
    let run = 0
    while (md[i + run] === "`") run++
    if (run === length) return i
    i = md.indexOf("`", i + run)
  }
  return -1
}

/** HTML for a span of inline Markdown. escapeXml's five entities are also right in HTML text and attributes. */
export const inlineHtml = (md: string): string => {
  let out = ""
  let i = 0
  while (i < md.length) {
    const c = md[i]!
    if (c === "\\" && i + 1 < md.length && ESCAPABLE.test(md[i + 1]!)) {
      out += escapeXml(md[i + 1]!)
      i += 2
      continue
    }
    if (c === "`") {
      let run = 0
      while (md[i + run] === "`") run++
      const close = closingFence(md, i + run, run)
      if (close >= 0) {
        let code = md.slice(i + run, close)
        // markdownCode pads with one space when the text starts or ends with a backtick; CommonMark strips it
        if (code.length >= 2 && code.startsWith(" ") && code.endsWith(" ") && code.trim().length > 0) code = code.slice(1, -1)
        out += `<code>${escapeXml(code)}</code>`
        i = close + run
        continue
      }
      out += "`".repeat(run)
      i += run
      continue
    }
    if (md.startsWith("**", i)) {
      const close = md.indexOf("**", i + 2)
      if (close > i + 2) {
        out += `<strong>${inlineHtml(md.slice(i + 2, close))}</strong>`
        i = close + 2
        continue
      }
    } else if (c === "*") {
      const close = md.indexOf("*", i + 1)
      if (close > i + 1) {
        out += `<em>${inlineHtml(md.slice(i + 1, close))}</em>`
        i = close + 1
        continue
      }
    }
    if (md.startsWith("&lt;", i)) {
      out += "&lt;"
      i += 4
      continue
    }
    out += escapeXml(c)
    i++
  }
  return out
}

/** The text a reader sees, without markup: to match a table cell against job names and series labels. */
export const plainText = (md: string): string =>
  md
    .replace(/\\([!-/:-@[-`{-~])/g, "$1")
    .replace(/&lt;/g, "<")
    .trim()
