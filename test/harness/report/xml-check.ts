/**
 * A small XML well-formedness checker for the tests (no parser dependency, no regular expressions): walks the
 * text once with a stack of open elements, and returns the element tree or throws with the offset of the first
 * fault. It checks what our SVG writer could get wrong: balanced and properly nested tags, quoted attributes,
 * no duplicate attributes, no raw "<" or stray "&" in text or attribute values, exactly one root element.
 */

export interface XmlElement {
  readonly name: string
  readonly attributes: Record<string, string>
  readonly children: XmlElement[]
  text: string
}

const isNameChar = (c: string): boolean =>
  (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c === "-" || c === "_" || c === ":" || c === "."

const isSpace = (c: string): boolean => c === " " || c === "\n" || c === "\t" || c === "\r"

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }

/** Decodes character and entity references; throws on "&" that starts none. */
const decode = (raw: string, offset: number): string => {
  let out = ""
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    if (c === "<") throw new Error(`raw "<" in character data at offset ${offset + i}`)
    if (c !== "&") {
      out += c
      continue
    }
    const end = raw.indexOf(";", i)
    if (end < 0) throw new Error(`unterminated reference at offset ${offset + i}`)
    const ref = raw.slice(i + 1, end)
    if (ref.startsWith("#x")) out += String.fromCodePoint(parseInt(ref.slice(2), 16))
    else if (ref.startsWith("#")) out += String.fromCodePoint(parseInt(ref.slice(1), 10))
    else if (ref in ENTITIES) out += ENTITIES[ref]
    else throw new Error(`unknown entity &${ref}; at offset ${offset + i}`)
    i = end
  }
  return out
}

export const parseXml = (xml: string): XmlElement => {
  let i = 0
  const stack: XmlElement[] = []
  let root: XmlElement | null = null
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${i}`)
  }
  const readName = (): string => {
    const start = i
    while (i < xml.length && isNameChar(xml[i]!)) i++
    if (i === start) fail("expected a name")
    return xml.slice(start, i)
  }
  const skipSpace = () => {
    while (i < xml.length && isSpace(xml[i]!)) i++
  }
  while (i < xml.length) {
    if (xml.startsWith("<?", i)) {
      const end = xml.indexOf("?>", i)
      if (end < 0) fail("unterminated processing instruction")
      if (stack.length > 0 || root !== null) fail("processing instruction inside or after the root")
      i = end + 2
    } else if (xml.startsWith("<!--", i)) {
      const end = xml.indexOf("-->", i + 4)
      if (end < 0) fail("unterminated comment")
      i = end + 3
    } else if (xml.startsWith("</", i)) {
      i += 2
      const name = readName()
      skipSpace()
      if (xml[i] !== ">") fail(`expected ">" closing </${name}`)
      i++
      const open = stack.pop()
      if (!open) fail(`closing tag </${name}> with nothing open`)
      if (open!.name !== name) fail(`</${name}> closes <${open!.name}>`)
    } else if (xml[i] === "<") {
      i++
      const name = readName()
      const attributes: Record<string, string> = {}
      for (;;) {
        const before = i
        skipSpace()
        if (xml[i] === ">" || xml.startsWith("/>", i)) break
        if (i === before) fail("expected whitespace before an attribute")
        const attr = readName()
        skipSpace()
        if (xml[i] !== "=") fail(`attribute ${attr} without "="`)
        i++
        skipSpace()
        const quote = xml[i]
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} value not quoted`)
        const end = xml.indexOf(quote!, i + 1)
        if (end < 0) fail(`unterminated value of ${attr}`)
        if (attr in attributes) fail(`duplicate attribute ${attr}`)
        attributes[attr] = decode(xml.slice(i + 1, end), i + 1)
        i = end + 1
      }
      const element: XmlElement = { name, attributes, children: [], text: "" }
      const parent = stack[stack.length - 1]
      if (parent) parent.children.push(element)
      else if (root === null) root = element
      else fail("a second root element")
      if (xml.startsWith("/>", i)) i += 2
      else {
        i++
        stack.push(element)
      }
    } else {
      const next = xml.indexOf("<", i)
      const end = next < 0 ? xml.length : next
      const raw = xml.slice(i, end)
      const parent = stack[stack.length - 1]
      if (parent) parent.text += decode(raw, i)
      else if (raw.trim().length > 0) fail("text outside the root element")
      i = end
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]!.name}> at end of document`)
  if (root === null) throw new Error("no root element")
  return root
}

/** Every element of the tree, depth first. */
export const allElements = (root: XmlElement): XmlElement[] => [root, ...root.children.flatMap(allElements)]
