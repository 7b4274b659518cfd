/**
 * The few HTML building blocks the view's sections share. Arguments named `html` are markup the caller built;
 * every other string is text and is escaped here (escapeXml's five entities are right in HTML text and quoted
 * attributes alike), so a section cannot forget to escape what came from the ledger.
 */
import { escapeXml } from "../escape.js"

export const esc = escapeXml

/** A link to a fragment of the page; `title` (text) shows on hover. */
export const link = (href: string, label: string, title?: string): string =>
  `<a href="${esc(href)}"${title ? ` title="${esc(title)}"` : ""}>${esc(label)}</a>`

/** Whole JSON (a configuration, an environment) for a reader who wants every field. */
export const jsonBlock = (value: unknown): string => `<pre class="json">${esc(JSON.stringify(value, null, 2) ?? "null")}</pre>`

/** Collapsed by default: the page stays short, and opens without a script. */
export const details = (summaryText: string, html: string, id?: string): string =>
  `<details${id ? ` id="${esc(id)}"` : ""}><summary>${esc(summaryText)}</summary>\n${html}\n</details>`

export interface HtmlTable {
  /** column titles (text) */
  readonly head: ReadonlyArray<string>
  /** the columns holding numbers (right-aligned) */
  readonly numeric?: ReadonlyArray<number>
  /** rows of cells, each cell already HTML */
  readonly rows: ReadonlyArray<{ readonly cells: ReadonlyArray<string>; readonly id?: string; readonly title?: string }>
  readonly className?: string
}

export const table = (t: HtmlTable): string => {
  const cls = (i: number) => (t.numeric?.includes(i) ? ` class="right"` : "")
  const head = t.head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join("")
  const rows = t.rows.map(
    (r) =>
      `<tr${r.id ? ` id="${esc(r.id)}"` : ""}${r.title ? ` title="${esc(r.title)}"` : ""}>${r.cells.map((c, i) => `<td${cls(i)}>${c}</td>`).join("")}</tr>`
  )
  return `<div class="table-wrap"><table${t.className ? ` class="${esc(t.className)}"` : ""}><thead><tr>${head}</tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table></div>`
}

/** A full hash in a code element, titled with itself (long hashes wrap; hovering shows it whole). */
export const hashCode = (hash: string): string => `<code class="hash" title="${esc(hash)}">${esc(hash)}</code>`
