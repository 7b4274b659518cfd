/**
 * Parameters of the position-embedding methods and the inference-time extensions, as Schemas.
 *
 * Each method (and each extension) exports a `Schema.Struct` of its parameters built from the fields below. One
 * Struct does three jobs:
 *   - it types the method's code: `create(params: typeof FopeParams.Type, ...)` reads `params.sigma`, a number;
 *   - decoding it validates a suite's (or a command line's) parameters and fills in the defaults, in the order
 *     of its fields (what is hashed into a job key);
 *   - each field carries its documentation, default and allowed range as annotations (`paramSpecs`), which
 *     `harness list`, `harness inspect` and the error messages read.
 * A field accepts its type, or a string that reads as it ("0.5", "true": a command line's `--param k=v`).
 */
import { Cause, Effect, Exit, Schema, type SchemaAST, SchemaIssue, SchemaTransformation } from "effect"

/** What a parameter is, for `harness list` and error messages: typed, with its default and its allowed range. */
export interface ParamSpec {
  readonly name: string
  readonly type: "number" | "integer" | "boolean" | "choice"
  /** the value used when the parameter is not given; a string when it is computed ("s": the evaluation scale) */
  readonly default: number | boolean | string
  readonly min?: number
  /** the minimum itself is refused (a factor must be positive) */
  readonly exclusiveMin?: boolean
  readonly max?: number
  readonly choices?: ReadonlyArray<string | number>
  readonly doc: string
}

/** The annotation key under which a parameter field carries its ParamSpec (less its name, which is its key). */
const PARAM_SPEC = "fope-harness/param"

type SpecOf = Omit<ParamSpec, "name">

/** Reads a command-line string as the field's type; anything else is left for the field's own check to refuse. */
const readText = (type: ParamSpec["type"], text: string): unknown => {
  if (type === "boolean") return text === "true" ? true : text === "false" ? false : text
  return text.trim() === "" ? text : Number(text)
}

/** `target` or a string that reads as it. */
const orText = <T extends Schema.Codec<number | boolean, number | boolean>>(target: T, type: ParamSpec["type"]) =>
  Schema.Union([
    target,
    Schema.String.pipe(
      Schema.decodeTo(
        target,
        SchemaTransformation.transform({ decode: (s: string) => readText(type, s) as T["Encoded"], encode: (v) => String(v) })
      )
    )
  ])

/** `target` or a string that reads as it, with a default when the key is absent or undefined, annotated with `spec`. */
const param = <T extends Schema.Codec<number | boolean, number | boolean>>(target: T, spec: SpecOf) => {
  const accepted = orText(target, spec.type)
  const withDefault: Schema.withDecodingDefault<typeof accepted> = Schema.withDecodingDefault<typeof accepted>(
    Effect.succeed(spec.default as T["Encoded"])
  )(accepted)
  return withDefault.annotate({ description: spec.doc, default: spec.default as T["Type"], [PARAM_SPEC]: spec })
}

/** A finite number from min (itself included unless `exclusiveMin`) up to max (unbounded when absent). */
const finiteIn = (o: { readonly min: number; readonly exclusiveMin?: boolean; readonly max?: number }) =>
  Schema.Finite.check(
    o.exclusiveMin ? Schema.isGreaterThan(o.min) : Schema.isGreaterThanOrEqualTo(o.min),
    Schema.isLessThanOrEqualTo(o.max ?? Number.MAX_VALUE)
  )

/** A finite number in [min, max] ((min, max] with `exclusiveMin`; no upper bound without `max`). */
export const numberParam = (o: {
  readonly default: number
  readonly min: number
  readonly exclusiveMin?: boolean
  readonly max?: number
  readonly doc: string
}) => param(finiteIn(o), { type: "number", ...o })

/** An integer in [min, max]. */
export const integerParam = (o: { readonly default: number; readonly min: number; readonly max: number; readonly doc: string }) =>
  param(Schema.Int.check(Schema.isBetween({ minimum: o.min, maximum: o.max })), { type: "integer", ...o })

export const booleanParam = (o: { readonly default: boolean; readonly doc: string }) => param(Schema.Boolean, { type: "boolean", ...o })

/** One of a few numbers. */
export const choiceParam = <const C extends readonly [number, ...Array<number>]>(o: {
  readonly default: C[number]
  readonly choices: C
  readonly doc: string
}) => param(Schema.Literals(o.choices), { type: "choice", ...o })

/**
 * An optional number in [min, max] with no fixed default (undefined when absent: the user of the value computes it,
 * as Llama 3's factor defaults to the evaluation scale s). `shown` is what `harness list` prints as its default.
 */
export const optionalNumberParam = (o: {
  readonly min: number
  readonly exclusiveMin?: boolean
  readonly max?: number
  readonly shown: string
  readonly doc: string
}) => {
  const spec: SpecOf = {
    type: "number",
    default: o.shown,
    min: o.min,
    ...(o.exclusiveMin ? { exclusiveMin: true } : {}),
    ...(o.max !== undefined ? { max: o.max } : {}),
    doc: o.doc
  }
  return Schema.optionalKey(orText(finiteIn(o), "number").annotate({ description: o.doc, [PARAM_SPEC]: spec }))
}

const standardFormatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The parameters of a method or an extension: a Struct whose fields were built above. */
export type ParamsSchema = Schema.Struct<Schema.Struct.Fields>

const specOfField = (field: { readonly ast: SchemaAST.AST }): SpecOf | undefined =>
  field.ast.annotations?.[PARAM_SPEC] as SpecOf | undefined

/** Every parameter of `schema` with its default and range, in the Struct's order. */
export const paramSpecs = (schema: ParamsSchema): ReadonlyArray<ParamSpec> =>
  Object.entries(schema.fields).flatMap(([name, field]) => {
    const spec = specOfField(field)
    return spec ? [{ name, ...spec }] : []
  })

/** "a number in [0, 10]", "true or false", "one of 1, 0": what a parameter allows. */
export const describeAllowed = (p: ParamSpec): string =>
  p.type === "choice"
    ? `one of ${(p.choices ?? []).map((c) => JSON.stringify(c)).join(", ")}`
    : p.type === "boolean"
      ? "true or false"
      : `${p.type === "integer" ? "an integer" : "a number"} in ${p.exclusiveMin ? "(" : "["}${p.min ?? "-inf"}, ${p.max ?? "inf"}]`

/** "a number in [0, 10], default 0.3" */
export const describeRange = (p: ParamSpec): string => `${describeAllowed(p)}, default ${JSON.stringify(p.default)}`

/** "sigma (a number in [0, 10], default 0.3)" */
export const describeParam = (p: ParamSpec): string => `${p.name} (${describeRange(p)})`

/** One parameter a decode refused: its key, the value given, and its spec (undefined for a key the Struct lacks). */
export interface ParamProblem {
  readonly key: string
  readonly value: unknown
  readonly spec: ParamSpec | undefined
}

/**
 * Decodes `raw` with `schema`: the typed parameters with defaults filled in, or every refused parameter (unknown keys
 * first, then values outside their range, in the Struct's order). Keys in `ignore` are neither decoded nor refused.
 */
export const decodeParams = <F extends Schema.Struct.Fields>(
  schema: Schema.Struct<F>,
  raw: Readonly<Record<string, unknown>>,
  ignore: ReadonlyArray<string> = []
):
  | { readonly ok: true; readonly value: Schema.Struct<F>["Type"] }
  | { readonly ok: false; readonly problems: ReadonlyArray<ParamProblem> } => {
  const specs = paramSpecs(schema)
  const unknown = Object.keys(raw).filter((k) => !Object.hasOwn(schema.fields, k) && !ignore.includes(k))
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => Object.hasOwn(schema.fields, k)))
  // the fields built above decode without services; a generic F cannot say so
  const decoder = schema as unknown as Schema.Decoder<Schema.Struct<F>["Type"]>
  const exit = Schema.decodeUnknownExit(decoder)(known, { errors: "all" })
  const bad = new Set<string>()
  if (Exit.isFailure(exit)) {
    const error = Cause.squash(exit.cause) as { readonly issue?: SchemaIssue.Issue }
    const issues = error.issue ? standardFormatter(error.issue).issues : []
    for (const i of issues) {
      const first = i.path?.[0] as PropertyKey | { readonly key: PropertyKey } | undefined
      if (first !== undefined) bad.add(String(typeof first === "object" ? first.key : first))
    }
    // a failure that names no key (not expected for an object of known keys) still refuses every key given
    if (bad.size === 0) for (const key of Object.keys(known)) bad.add(key)
  }
  const problems: ParamProblem[] = [
    ...unknown.map((key) => ({ key, value: raw[key], spec: undefined })),
    ...specs.filter((s) => bad.has(s.name)).map((spec) => ({ key: spec.name, value: raw[spec.name], spec }))
  ]
  if (problems.length > 0 || Exit.isFailure(exit)) return { ok: false, problems }
  return { ok: true, value: exit.value }
}

/** The rotary base, shared by every method with a RoPE frequency grid. */
export const baseParam = (doc = "rotary base b of the frequency grid w_k = b^(-2k/d) (RoFormer: 10000)") =>
  numberParam({ default: 10000, min: 2, max: 1e9, doc })
