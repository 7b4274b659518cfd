/**
 * Finding, parsing, decoding and cross-checking a suite file.
 *
 * Three layers of checks, all reporting every problem at once with its path inside the file:
 *   1. JSON syntax (with the line and column of the error);
 *   2. the Schema in suites/schema.ts (types, ranges, unknown keys);
 *   3. the registries: embedding names and parameters, scale names, matrix patterns that match nothing;
 *      and combinations no single field can check (suite-limits.ts): the plan's size, repeated seeds, warm-up
 *      longer than training, thresholds for metrics no task records.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs"
import { basename, dirname, extname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Cause, Effect, Exit, Schema, SchemaIssue } from "effect"
import { Suite } from "../../suites/schema.js"
import { EMBEDDINGS, embeddingParamProblems } from "../../embeddings/registry.js"
import { SCALES } from "../../models/scales.js"
import { resolveSourcePaths, sourceDeclarationProblems } from "../../models/data/corpus-source.js"
import { SuiteError } from "../errors.js"
import { boundedForDecoding, combinationProblems } from "./suite-limits.js"

/** suites/ next to harness/, whether running from sources (vitest) or from dist/ */
export const suitesDirectory = (): string => {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const candidate of [join(here, "../../suites"), join(here, "../../../suites")]) {
    if (existsSync(join(candidate, "quickstart.json"))) return resolve(candidate)
  }
  throw new Error(`cannot find the suites/ folder near ${here}`)
}

export const listSuiteNames = (): string[] =>
  readdirSync(suitesDirectory())
    .filter((f) => f.endsWith(".json") && !f.endsWith(".schema.json"))
    .map((f) => basename(f, ".json"))
    .sort()

/** A suite argument is a shipped suite's name or a path to a JSON file. */
export const resolveSuitePath = (nameOrPath: string): Effect.Effect<string, SuiteError> =>
  Effect.suspend(() => {
    const looksLikePath = nameOrPath.includes("/") || extname(nameOrPath) === ".json"
    if (looksLikePath) {
      const path = resolve(nameOrPath)
      if (!existsSync(path))
        return Effect.fail(
          new SuiteError({
            message: `suite file not found: ${path}. Check the path, or use a shipped suite: ${listSuiteNames().join(", ")}`
          })
        )
      return Effect.succeed(path)
    }
    const path = join(suitesDirectory(), `${nameOrPath}.json`)
    if (!existsSync(path)) {
      return Effect.fail(
        new SuiteError({
          message: `unknown suite "${nameOrPath}". Valid suites: ${listSuiteNames().join(", ")} (or pass a path to a suite .json file; \`harness list\` shows them all)`
        })
      )
    }
    return Effect.succeed(path)
  })

const formatPath = (path: ReadonlyArray<unknown>): string =>
  path.length === 0
    ? "(top level)"
    : path
        .map((p) => (typeof p === "number" ? `[${p}]` : `.${String((p as { key?: unknown })?.key ?? p)}`))
        .join("")
        .replace(/^\./, "")

const decodeSuite = Schema.decodeUnknownExit(Suite)
const standardFormatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Decodes and cross-checks suite data; `source` names the file in messages. Every problem in one SuiteError. */
export const parseSuite = (data: unknown, source: string): Effect.Effect<Suite, SuiteError> => Effect.suspend(() => parsed(data, source))

/** parseSuite for a caller outside Effect (tests, fuzzers): the Suite, or the SuiteError thrown. */
export const parseSuiteSync = (data: unknown, source: string): Suite => Effect.runSync(parseSuite(data, source))

const parsed = (data: unknown, source: string): Effect.Effect<Suite, SuiteError> => {
  const exit = decodeSuite(boundedForDecoding(data), { errors: "all", onExcessProperty: "error" })
  if (Exit.isFailure(exit)) {
    const error = Cause.squash(exit.cause) as { issue?: SchemaIssue.Issue; message?: string }
    const problems = error.issue
      ? standardFormatter(error.issue).issues.map((i) => `${formatPath(i.path ?? [])}: ${i.message}`)
      : [String(error.message)]
    // the combinations and the registry names are read defensively, so they join the Schema's problems in one report
    const raw = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : undefined
    const combinations = raw ? combinationProblems(data as Suite) : []
    const names = raw ? registryNameProblems(raw.embeddings, raw.scales) : []
    return Effect.fail(new SuiteError({ message: suiteProblemsMessage(source, [...names, ...combinations, ...problems]) }))
  }
  const suite = exit.value
  const problems = crossCheck(suite)
  if (problems.length > 0) return Effect.fail(new SuiteError({ message: suiteProblemsMessage(source, problems) }))
  return Effect.succeed(suite)
}

/** A file with a thousand bad entries gets the first ones listed and a count of the rest, not a thousand lines. */
const MAX_PROBLEMS_SHOWN = 50

export const suiteProblemsMessage = (source: string, problems: ReadonlyArray<string>): string =>
  `${source}: ${problems.length} problem${problems.length === 1 ? "" : "s"} in the suite file:\n` +
  problems
    .slice(0, MAX_PROBLEMS_SHOWN)
    .map((p) => `  - ${p}`)
    .join("\n") +
  (problems.length > MAX_PROBLEMS_SHOWN ? `\n  ... and ${problems.length - MAX_PROBLEMS_SHOWN} more` : "") +
  `\nFix the file (suites/suite.schema.json describes every field; \`harness list\` shows embeddings and scales).`

/**
 * Unknown embedding and scale names in a file that failed its Schema: read from the raw lists, skipping entries
 * of the wrong shape (the Schema reports those), so that one report lists every mistake.
 */
const registryNameProblems = (embeddings: unknown, scales: unknown): string[] => {
  const problems: string[] = []
  if (Array.isArray(embeddings)) {
    embeddings.forEach((entry: unknown, i) => {
      const name =
        typeof entry === "string" ? entry : typeof entry === "object" && entry !== null ? (entry as { name?: unknown }).name : undefined
      if (typeof name === "string" && name !== "" && !(name in EMBEDDINGS))
        problems.push(`embeddings[${i}]: unknown embedding "${name}". Valid: ${Object.keys(EMBEDDINGS).join(", ")}`)
      // a known method's parameters, when they are an object of values the Schema would accept as such
      const params = typeof entry === "object" && entry !== null ? (entry as { params?: unknown }).params : undefined
      if (typeof name === "string" && name in EMBEDDINGS && typeof params === "object" && params !== null && !Array.isArray(params)) {
        problems.push(...embeddingParamProblems(name, params as Record<string, unknown>).map((p) => `embeddings[${i}] (${name}): ${p}`))
      }
    })
  }
  if (Array.isArray(scales)) {
    scales.forEach((scale: unknown, i) => {
      if (typeof scale === "string" && scale !== "" && !(scale in SCALES))
        problems.push(`scales[${i}]: unknown scale "${scale}". Valid: ${Object.keys(SCALES).join(", ")}`)
    })
  }
  return problems
}

/** Checks that need the registries. */
const crossCheck = (suite: Suite): string[] => {
  const problems: string[] = []
  const validEmbeddings = Object.keys(EMBEDDINGS)
  suite.embeddings.forEach((entry, i) => {
    const name = typeof entry === "string" ? entry : entry.name
    const params = typeof entry === "string" ? {} : (entry.params ?? {})
    if (!(name in EMBEDDINGS)) {
      problems.push(`embeddings[${i}]: unknown embedding "${name}". Valid: ${validEmbeddings.join(", ")}`)
      return
    }
    problems.push(...embeddingParamProblems(name, params).map((p) => `embeddings[${i}] (${name}): ${p}`))
  })
  const labels = suite.embeddings.map(embeddingLabel)
  const duplicate = labels.find((l, i) => labels.indexOf(l) !== i)
  if (duplicate) problems.push(`embeddings: two entries are both labelled "${duplicate}"; give one a distinct "label"`)
  suite.scales.forEach((scale, i) => {
    if (!(scale in SCALES)) problems.push(`scales[${i}]: unknown scale "${scale}". Valid: ${Object.keys(SCALES).join(", ")}`)
  })
  const patterns = [
    ...(suite.matrix?.include ?? []).map((p, i) => [`matrix.include[${i}]`, p] as const),
    ...(suite.matrix?.exclude ?? []).map((p, i) => [`matrix.exclude[${i}]`, p] as const)
  ]
  for (const [where, p] of patterns) {
    if (p.embedding !== undefined && !labels.includes(p.embedding))
      problems.push(`${where}.embedding: "${p.embedding}" is none of the suite's embeddings (${labels.join(", ")})`)
    if (p.scale !== undefined && !suite.scales.includes(p.scale))
      problems.push(`${where}.scale: "${p.scale}" is none of the suite's scales (${suite.scales.join(", ")})`)
    if (p.seed !== undefined && !suite.seeds.includes(p.seed))
      problems.push(`${where}.seed: ${p.seed} is none of the suite's seeds (${suite.seeds.join(", ")})`)
  }
  if (suite.evaluation.tasks.includes("passkey") && suite.data.tokenizer === "bytes" && suite.training.length < 256) {
    problems.push(
      `evaluation.tasks: "passkey" needs a training length of at least 256 byte tokens (the fixed prompt text takes about 250 bytes); training.length is ${suite.training.length}`
    )
  }
  problems.push(...combinationProblems(suite))
  problems.push(
    ...sourceDeclarationProblems(
      suite.data.corpus,
      suite.data.tokenizer,
      suite.evaluation.tasks.includes("passkey") || (suite.data.passkeyFraction ?? 0) > 0
    )
  )
  return problems
}

/** The label an embedding entry is shown and keyed by: its explicit label, else its name. */
export const embeddingLabel = (entry: Suite["embeddings"][number]): string =>
  typeof entry === "string" ? entry : (entry.label ?? entry.name)

/** A shipped suite by name, or a suite file by path: found, parsed, decoded and cross-checked (every problem in one SuiteError). */
export const loadSuite = (nameOrPath: string): Effect.Effect<{ suite: Suite; path: string }, SuiteError> =>
  Effect.gen(function* () {
    const path = yield* resolveSuitePath(nameOrPath)
    const text = readFileSync(path, "utf8")
    const data = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: (e) =>
        new SuiteError({
          message: `${path}: not valid JSON: ${(e as Error).message}. Fix the syntax (a trailing comma or a missing quote is the usual cause).`
        })
    })
    const suite = yield* parseSuite(data, path)
    // a declared corpus's paths are relative to the suite file
    const corpus = suite.data.corpus
    return {
      suite: corpus === "sotu" ? suite : { ...suite, data: { ...suite.data, corpus: resolveSourcePaths(corpus, dirname(path)) } },
      path
    }
  })

/** loadSuite for a caller outside Effect (a report's suite description, tests): the suite, or the SuiteError thrown. */
export const loadSuiteSync = (nameOrPath: string): { suite: Suite; path: string } => Effect.runSync(loadSuite(nameOrPath))
