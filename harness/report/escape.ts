/** Escaping for the two output languages of a report: XML (SVG text and attributes) and Markdown table cells. */

/**
 * Escapes the five XML special characters (safe in text content and in double- or single-quoted attributes) and
 * replaces characters no XML 1.0 document may contain by U+FFFD.
 */
export const escapeXml = (text: string): string =>
  text
    // characters XML 1.0 forbids even as references (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/FFFF)
    .replace(
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      "\uFFFD"
    )
    .replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&apos;"))

/**
 * A Markdown table cell: a pipe would end the cell and a newline the row; `<` would open inline HTML in most
 * renderers. Backslash-escape the first, flatten the second, entity-escape the third.
 */
export const escapeMarkdownCell = (text: string): string =>
  text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ").replace(/</g, "&lt;")

/** Inline text outside tables: only inline HTML is neutralised (Markdown emphasis in a description is allowed). */
export const escapeMarkdownText = (text: string): string => text.replace(/</g, "&lt;")

/** A code span that survives backticks inside the text (CommonMark: use a longer fence than any run inside). */
export const markdownCode = (text: string): string => {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length))
  const fence = "`".repeat(longestRun + 1)
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : ""
  return `${fence}${pad}${text}${pad}${fence}`
}
