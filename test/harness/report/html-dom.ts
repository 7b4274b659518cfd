/**
 * A forgiving HTML reader for the tests (no parser dependency): enough to walk what Chromium's --dump-dom prints
 * and what the view writes. Void elements (meta, br, ...) and "/>" close themselves, script and style hold raw
 * text, an end tag closes up to its open element (an unmatched one is ignored), the common entities are decoded.
 * Element names are lower-cased, as HTML compares them.
 */

export interface HtmlNode {
  readonly name: string
  readonly attributes: Record<string, string>
  readonly children: HtmlNode[]
  /** text of a "#text" node */
  readonly text: string
}

const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"])
const RAW_TEXT = new Set(["script", "style"])
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" }

export const decodeEntities = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#")
      return String.fromCodePoint(ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10))
    return ENTITIES[ref.toLowerCase()] ?? whole
  })

const element = (name: string, attributes: Record<string, string> = {}): HtmlNode => ({ name, attributes, children: [], text: "" })

export const parseHtml = (html: string): HtmlNode => {
  const root = element("#document")
  const stack: HtmlNode[] = [root]
  const top = () => stack[stack.length - 1]!
  let i = 0
  const pushText = (raw: string) => {
    if (raw.length > 0) top().children.push({ name: "#text", attributes: {}, children: [], text: decodeEntities(raw) })
  }
  while (i < html.length) {
    const lt = html.indexOf("<", i)
    if (lt < 0) {
      pushText(html.slice(i))
      break
    }
    pushText(html.slice(i, lt))
    i = lt
    if (html.startsWith("<!--", i)) {
      const end = html.indexOf("-->", i + 4)
      i = end < 0 ? html.length : end + 3
    } else if (html.startsWith("<!", i) || html.startsWith("<?", i)) {
      const end = html.indexOf(">", i)
      i = end < 0 ? html.length : end + 1
    } else if (html.startsWith("</", i)) {
      const end = html.indexOf(">", i)
      const name = html
        .slice(i + 2, end < 0 ? html.length : end)
        .trim()
        .toLowerCase()
      i = end < 0 ? html.length : end + 1
      const at = stack.map((n) => n.name).lastIndexOf(name)
      if (at > 0) stack.length = at
    } else if (/^<[A-Za-z]/.test(html.slice(i, i + 2))) {
      let j = i + 1
      while (j < html.length && /[^\s/>]/.test(html[j]!)) j++
      const name = html.slice(i + 1, j).toLowerCase()
      const attributes: Record<string, string> = {}
      let selfClosing = false
      for (;;) {
        while (j < html.length && /\s/.test(html[j]!)) j++
        if (j >= html.length) break
        if (html[j] === ">") {
          j++
          break
        }
        if (html.startsWith("/>", j)) {
          selfClosing = true
          j += 2
          break
        }
        if (html[j] === "/") {
          j++
          continue
        }
        const start = j
        while (j < html.length && /[^\s=/>]/.test(html[j]!)) j++
        const attr = html.slice(start, j).toLowerCase()
        while (j < html.length && /\s/.test(html[j]!)) j++
        let value = ""
        if (html[j] === "=") {
          j++
          while (j < html.length && /\s/.test(html[j]!)) j++
          const quote = html[j]
          if (quote === '"' || quote === "'") {
            const end = html.indexOf(quote, j + 1)
            value = html.slice(j + 1, end < 0 ? html.length : end)
            j = end < 0 ? html.length : end + 1
          } else {
            const vs = j
            while (j < html.length && /[^\s>]/.test(html[j]!)) j++
            value = html.slice(vs, j)
          }
        }
        if (!(attr in attributes)) attributes[attr] = decodeEntities(value)
      }
      const node = element(name, attributes)
      top().children.push(node)
      i = j
      if (RAW_TEXT.has(name)) {
        const close = html.toLowerCase().indexOf(`</${name}`, i)
        const end = close < 0 ? html.length : close
        node.children.push({ name: "#text", attributes: {}, children: [], text: html.slice(i, end) })
        const gt = html.indexOf(">", end)
        i = close < 0 || gt < 0 ? html.length : gt + 1
      } else if (!selfClosing && !VOID.has(name)) stack.push(node)
    } else {
      pushText("<")
      i++
    }
  }
  return root
}

/** Every element under `node` (itself included), depth first; text nodes left out. */
export const elements = (node: HtmlNode): HtmlNode[] => (node.name === "#text" ? [] : [node, ...node.children.flatMap(elements)])

/** The text a reader sees, whitespace collapsed. */
export const textOf = (node: HtmlNode): string => {
  const collect = (n: HtmlNode): string =>
    n.name === "#text" ? n.text : n.name === "style" || n.name === "script" ? "" : n.children.map(collect).join("")
  return collect(node).replace(/\s+/g, " ").trim()
}

export const hasClass = (node: HtmlNode, cls: string): boolean => (node.attributes["class"] ?? "").split(/\s+/).includes(cls)
