/**
 * The `harness` command lines a recipe (a GitHub Actions workflow, a Slurm script) calls, and a check that each one
 * names a subcommand, flags, flag values and positional arguments the CLI really has: so a renamed flag fails a
 * test here instead of a user's CI run months later.
 *
 * No YAML parser ships with the dependencies: the workflows are read line by line for their `run:` scripts (plain
 * and block scalars), which is all that holds commands; the shell is split into words the way bash would for the
 * quoting these recipes use. The CLI side reads `harness <subcommand> --help`, the help a user sees.
 */
import type { Command } from "effect/cli"
import { rootCommand } from "../../harness/cli/root.js"
import { harness } from "../harness/helpers.js"

/** The scripts of every `run:` key of a workflow, in file order. */
export const workflowRunScripts = (yaml: string): string[] => {
  const lines = yaml.split("\n")
  const scripts: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:- )?run:\s*(.*)$/.exec(lines[i]!)
    if (!m) continue
    const value = m[2]!.trim()
    if (!/^[|>][-+]?$/.test(value)) {
      scripts.push(value)
      continue
    }
    // a block scalar: the lines indented deeper than the key (whose column is after "- " in a list item)
    const keyColumn = m[1]!.length + (lines[i]!.trimStart().startsWith("- ") ? 2 : 0)
    const body: string[] = []
    for (i++; i < lines.length; i++) {
      const line = lines[i]!
      if (line.trim() !== "" && line.length - line.trimStart().length <= keyColumn) break
      body.push(line)
    }
    i--
    const indent = Math.min(...body.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length))
    scripts.push(
      body
        .map((l) => l.slice(indent))
        .join("\n")
        .trimEnd()
    )
  }
  return scripts
}

/** GitHub expressions (`${{ matrix.shard }}`) stand for values only known at run time. */
export const EXPRESSION = "__expression__"

/**
 * Splits a shell script into simple commands (words), the way bash would for these recipes: comments dropped,
 * backslash-newline joined, quotes removed (variables stay as text), split on ; && || | & and newlines; a
 * redirection and its target are dropped.
 */
export const shellCommands = (script: string): string[][] => {
  const text = script.replace(/\$\{\{[^}]*\}\}/g, EXPRESSION).replace(/\\\n/g, " ")
  const commands: string[][] = []
  let words: string[] = []
  let word: string | null = null
  const endWord = () => {
    if (word !== null) words.push(word)
    word = null
  }
  const endCommand = () => {
    endWord()
    if (words.length > 0) commands.push(words)
    words = []
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "'") {
      const end = text.indexOf("'", i + 1)
      word = (word ?? "") + text.slice(i + 1, end)
      i = end
    } else if (c === '"') {
      let j = i + 1
      let s = ""
      for (; j < text.length && text[j] !== '"'; j++) s += text[j] === "\\" ? text[++j] : text[j]
      word = (word ?? "") + s
      i = j
    } else if (c === "\\") {
      word = (word ?? "") + (text[++i] ?? "")
    } else if (c === "#" && word === null) {
      while (i < text.length && text[i] !== "\n") i++
      endCommand()
    } else if (c === "\n" || c === ";" || c === "|" || c === "&") {
      if ((c === "|" || c === "&") && text[i + 1] === c) i++
      endCommand()
    } else if (c === ">" || c === "<") {
      // a redirection: drop it and its target (2>&1 included)
      if (word !== null && /^\d$/.test(word)) word = null
      endWord()
      while (text[i + 1] === ">" || text[i + 1] === "&") i++
      while (text[i + 1] === " ") i++
      let j = i + 1
      while (j < text.length && !/[\s;|&]/.test(text[j]!)) j++
      i = j - 1
    } else if (c === " " || c === "\t") {
      endWord()
    } else {
      word = (word ?? "") + c
    }
  }
  endCommand()
  return commands
}

const KEYWORDS = new Set(["if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time", "exec"])

/**
 * The arguments of each harness call: `harness ...` (the recipes' shell function or an installed bin),
 * `npx [--no-install] harness ...`, `node bin/harness.js ...`. A wrapper that only forwards "$@" is not a call.
 */
export const harnessCalls = (commands: ReadonlyArray<ReadonlyArray<string>>): string[][] => {
  const calls: string[][] = []
  for (const command of commands) {
    let w = command.filter((_, i) => i > 0 || !KEYWORDS.has(command[0]!))
    while (w.length > 0 && (KEYWORDS.has(w[0]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0]!))) w = w.slice(1)
    if (w[0] === "npx") {
      w = w.slice(1)
      while (w[0]?.startsWith("-")) w = w.slice(1)
    }
    if (w[0] === "node" && w[1]?.endsWith("bin/harness.js")) w = ["harness", ...w.slice(2)]
    if (w[0] !== "harness") continue
    const args = w.slice(1)
    if (args.length === 1 && args[0] === "$@") continue
    calls.push(args)
  }
  return calls
}

interface HelpSpec {
  readonly flags: Map<string, { readonly takesValue: boolean; readonly choices: ReadonlyArray<string> | null }>
  readonly minArgs: number
  readonly maxArgs: number
}

const helpCache = new Map<string, Promise<HelpSpec>>()

/** A command's flags and positional arguments, read from its --help. */
const helpSpec = (path: ReadonlyArray<string>): Promise<HelpSpec> => {
  const id = path.join(" ")
  let spec = helpCache.get(id)
  if (!spec) {
    spec = harness(...path, "--help").then((r) => {
      const flags = new Map<string, { takesValue: boolean; choices: string[] | null }>()
      let minArgs = 0
      let maxArgs = 0
      let section = ""
      for (const line of r.out.split("\n")) {
        if (/^[A-Z][A-Z ]+$/.test(line)) {
          section = line.trim()
          continue
        }
        if (section === "FLAGS" || section === "GLOBAL FLAGS") {
          const m = /^\s+(--[a-z0-9-]+)(?:, (-\w))?(?: ([a-z]+|<[^>]+>))?(?:\s{2,}(.*))?$/.exec(line)
          if (!m) continue
          const choices = /\(choices: ([^)]*)\)\s*$/.exec(m[4] ?? "")?.[1]?.split(", ") ?? null
          const entry = { takesValue: m[3] !== undefined, choices }
          flags.set(m[1]!, entry)
          if (m[2]) flags.set(m[2], entry)
        } else if (section === "ARGUMENTS") {
          const m = /^\s{2}(\S+) /.exec(line)
          if (!m) continue
          minArgs++
          maxArgs = m[1]!.endsWith("...") ? Infinity : maxArgs + 1
        }
      }
      return { flags, minArgs, maxArgs }
    })
    helpCache.set(id, spec)
  }
  return spec
}

const isRunTimeValue = (value: string): boolean => value.includes("$") || value.includes(EXPRESSION)

/** Problems with one harness call (none: the CLI has this subcommand and accepts these flags, values and arguments). */
export const cliProblems = async (args: ReadonlyArray<string>): Promise<string[]> => {
  const shown = `harness ${args.join(" ")}`
  let command: Command.Command.Any = rootCommand
  const path: string[] = []
  let rest = [...args]
  for (;;) {
    const subcommands = command.subcommands.flatMap((g) => g.commands)
    if (subcommands.length === 0) break
    const next = subcommands.find((c) => c.name === rest[0])
    if (!next)
      return [
        `${shown}: "${rest[0] ?? ""}" is not a subcommand of harness ${path.join(" ")} (it has ${subcommands.map((c) => c.name).join(", ")})`.replace(
          "  ",
          " "
        )
      ]
    command = next
    path.push(next.name)
    rest = rest.slice(1)
  }
  const spec = await helpSpec(path)
  const problems: string[] = []
  const positionals: string[] = []
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]!
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token)
      continue
    }
    const [name, inline] = token.split(/=(.*)/s)
    const flag = spec.flags.get(name!)
    if (!flag) {
      problems.push(`${shown}: harness ${path.join(" ")} has no flag ${name}`)
      continue
    }
    if (!flag.takesValue) continue
    const value = inline ?? rest[++i]
    if (value === undefined) problems.push(`${shown}: ${name} needs a value`)
    else if (flag.choices && !isRunTimeValue(value) && !flag.choices.includes(value))
      problems.push(`${shown}: ${name} ${value} is not one of ${flag.choices.join(", ")}`)
  }
  // a word that is only a variable (`${RUN_FLAGS:-}`) may expand to flags or to nothing: it need not fit an argument
  const fixed = positionals.filter((p) => !/^\$(\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$/.test(p))
  if (positionals.length < spec.minArgs || fixed.length > spec.maxArgs) {
    problems.push(
      `${shown}: harness ${path.join(" ")} takes ${spec.minArgs}${spec.maxArgs === Infinity ? " or more" : spec.maxArgs === spec.minArgs ? "" : `-${spec.maxArgs}`} arguments, given ${positionals.length} (${positionals.join(" ")})`
    )
  }
  return problems
}

/** The subcommand path of a call (`ledger merge`, `check`). */
export const subcommandOf = (args: ReadonlyArray<string>): string => {
  const words: string[] = []
  let command: Command.Command.Any = rootCommand
  for (const a of args) {
    const next = command.subcommands.flatMap((g) => g.commands).find((c) => c.name === a)
    if (!next) break
    words.push(a)
    command = next
  }
  return words.join(" ")
}

/** The value a call gives a flag (`--ledger x` or `--ledger=x`), if any. */
export const flagValue = (args: ReadonlyArray<string>, flag: string): string | undefined => {
  const i = args.indexOf(flag)
  if (i >= 0) return args[i + 1]
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1)
}
