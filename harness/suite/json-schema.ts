/**
 * The JSON Schema of suite files (suites/suite.schema.json), derived from the Effect Schema in suites/schema.ts so
 * that editors validate and complete suite files with the same rules the harness decodes them with. A test checks
 * that the committed file is up to date; `npm run schema` rewrites it.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Schema } from "effect"
import { Suite } from "../../suites/schema.js"

export const suiteJsonSchema = (): Record<string, unknown> => {
  const document = Schema.toJsonSchemaDocument(Suite) as { schema: Record<string, unknown>; definitions?: Record<string, unknown> }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://fope-harness.local/suite.schema.json",
    title: "fope-harness suite",
    description:
      "A declarative benchmark suite: embeddings x scales x seeds, training, data, evaluation lengths and tasks, regression thresholds.",
    ...document.schema,
    ...(document.definitions && Object.keys(document.definitions).length > 0 ? { $defs: document.definitions } : {})
  }
}

export const suiteJsonSchemaText = (): string => JSON.stringify(suiteJsonSchema(), null, 2) + "\n"

/** `node dist/harness/suite/json-schema.js <suites dir>` writes suite.schema.json there. */
if (process.argv[1]?.endsWith("json-schema.js") && process.argv[2]) {
  writeFileSync(join(process.argv[2], "suite.schema.json"), suiteJsonSchemaText())
}
