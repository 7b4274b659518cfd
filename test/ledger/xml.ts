/**
 * A strict little XML reader for tests: enough to prove that a document is well-formed (one root, tags balanced,
 * attributes quoted and unique, only the five predefined entities or character references, no raw `<` or `&`
 * in text) and to walk its elements. No dependency ships an XML parser; JUnit XML needs nothing more.
 */
export interface XmlElement {
  readonly name: string
  readonly attrs: Readonly<Record<string, string>>
  readonly children: XmlElement[]
  text: string
}

const ENTITY = /&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }

const decode = (raw: string, where: string): string => {
  if (/&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.test(raw)) throw new Error(`bare & in ${where}: ${raw.slice(0, 60)}`)
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(raw)) throw new Error(`control character in ${where}`)
  return raw.replace(ENTITY, (_, e: string) =>
    e.startsWith("#x")
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith("#")
        ? String.fromCodePoint(Number(e.slice(1)))
        : NAMED[e]!
  )
}

const NAME = "[A-Za-z_][\\w.:-]*"

const parseAttrs = (source: string, tag: string): Record<string, string> => {
  const attrs: Record<string, string> = {}
  const re = new RegExp(`\\s+(${NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, "y")
  let at = 0
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break
    re.lastIndex = at
    const m = re.exec(source)
    if (!m) throw new Error(`malformed attributes in <${tag}>: ${source.slice(at, at + 60)}`)
    if (m[1]! in attrs) throw new Error(`duplicate attribute ${m[1]} in <${tag}>`)
    attrs[m[1]!] = decode(m[2] ?? m[3] ?? "", `<${tag} ${m[1]}>`)
    at = re.lastIndex
  }
  return attrs
}

export const parseXml = (doc: string): XmlElement => {
  let rest = doc.replace(/^\uFEFF?<\?xml\s[^?]*\?>/, "")
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  const tag = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(/?)>`)
  while (rest.length > 0) {
    const lt = rest.indexOf("<")
    const text = lt < 0 ? rest : rest.slice(0, lt)
    if (text.length > 0) {
      if (stack.length === 0) {
        if (text.trim() !== "") throw new Error(`text outside the root element: ${text.slice(0, 60)}`)
      } else stack.at(-1)!.text += decode(text, `<${stack.at(-1)!.name}>`)
    }
    if (lt < 0) break
    rest = rest.slice(lt)
    if (rest.startsWith("<!--")) {
      const end = rest.indexOf("-->")
      if (end < 0) throw new Error("unterminated comment")
      rest = rest.slice(end + 3)
      continue
    }
    const m = tag.exec(rest)
    if (!m) throw new Error(`malformed tag: ${rest.slice(0, 60)}`)
    rest = rest.slice(m[0].length)
    const [, closing, name, attrText, selfClosing] = m
    if (closing) {
      if (attrText || selfClosing) throw new Error(`malformed closing tag </${name}>`)
      const open = stack.pop()
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name ?? "nothing"}>`)
      continue
    }
    const element: XmlElement = { name: name!, attrs: parseAttrs(attrText ?? "", name!), children: [], text: "" }
    if (stack.length > 0) stack.at(-1)!.children.push(element)
    else if (root) throw new Error(`a second root element <${name}>`)
    else root = element
    if (!selfClosing) stack.push(element)
  }
  if (stack.length > 0) throw new Error(`<${stack.at(-1)!.name}> is never closed`)
  if (!root) throw new Error("no root element")
  return root
}

/**
 * The JUnit XML structure CI servers read (the Ant / Jenkins / GitLab schema): testsuites > testsuite >
 * (properties > property, testcase > failure | error | skipped | system-out | system-err); every count attribute an
 * integer that matches the elements under it. Returns the problems found (none: valid).
 */
export const junitProblems = (root: XmlElement): string[] => {
  const problems: string[] = []
  const int = (e: XmlElement, attr: string): number => {
    const v = e.attrs[attr]
    if (v === undefined || !/^\d+$/.test(v)) problems.push(`<${e.name}> ${attr}="${v}" is not a count`)
    return Number(v)
  }
  const only = (e: XmlElement, allowed: ReadonlyArray<string>) => {
    for (const c of e.children) if (!allowed.includes(c.name)) problems.push(`<${c.name}> is not allowed in <${e.name}>`)
  }
  if (root.name !== "testsuites") return [`the root is <${root.name}>, not <testsuites>`]
  only(root, ["testsuite"])
  const total = { tests: 0, failures: 0, errors: 0, skipped: 0 }
  for (const suite of root.children) {
    if (!suite.attrs.name) problems.push("a <testsuite> without a name")
    only(suite, ["properties", "testcase", "system-out", "system-err"])
    for (const p of suite.children.filter((c) => c.name === "properties")) {
      only(p, ["property"])
      for (const q of p.children)
        if (q.attrs.name === undefined || q.attrs.value === undefined) problems.push("a <property> without name and value")
    }
    const cases = suite.children.filter((c) => c.name === "testcase")
    const count = { tests: cases.length, failures: 0, errors: 0, skipped: 0 }
    for (const c of cases) {
      if (!c.attrs.name || !c.attrs.classname) problems.push(`a <testcase> without name and classname: ${JSON.stringify(c.attrs)}`)
      only(c, ["failure", "error", "skipped", "system-out", "system-err"])
      const outcome = c.children.filter((x) => x.name === "failure" || x.name === "error" || x.name === "skipped")
      if (outcome.length > 1) problems.push(`<testcase ${c.attrs.name}> has ${outcome.length} outcomes`)
      for (const o of outcome) {
        if (o.name === "failure" && (!o.attrs.message || !o.attrs.type))
          problems.push(`<failure> in ${c.attrs.name} without message and type`)
        count[o.name === "failure" ? "failures" : o.name === "error" ? "errors" : "skipped"]++
      }
    }
    for (const k of ["tests", "failures", "errors", "skipped"] as const) {
      if (int(suite, k) !== count[k]) problems.push(`<testsuite ${suite.attrs.name}> ${k}="${suite.attrs[k]}" but holds ${count[k]}`)
      total[k] += count[k]
    }
  }
  for (const k of ["tests", "failures", "errors", "skipped"] as const) {
    if (int(root, k) !== total[k]) problems.push(`<testsuites> ${k}="${root.attrs[k]}" but holds ${total[k]}`)
  }
  return problems
}
