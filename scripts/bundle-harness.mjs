// Bundles the compiled harness (dist/, from `npm run build`) into one ES module file with rolldown, so that a
// machine without node_modules can run it. Left out, and carried beside it by scripts/prepare-gpu-check.sh:
// native addons (better-sqlite3, dawn.node through `webgpu`) and the packages read as files at run time
// (gpt-tokenizer's CommonJS build, the SOTU corpus); the optional native TensorFlow bindings stay absent.
//   node scripts/bundle-harness.mjs OUT_FILE
import { build } from "rolldown"

const out = process.argv[2]
if (!out) {
  console.error("usage: node scripts/bundle-harness.mjs OUT_FILE (after npm run build)")
  process.exit(2)
}
const external = [/^better-sqlite3$/, /^webgpu$/, /^gpt-tokenizer(\/.*)?$/, /^@stdlib\/datasets-sotu(\/.*)?$/, /^@tensorflow\/tfjs-node(-gpu)?$/]
await build({
  input: "dist/harness/cli/main.js",
  platform: "node",
  external,
  logLevel: "warn",
  output: {
    file: out,
    format: "esm",
    codeSplitting: false,
    // CommonJS code inside (tfjs's wasm glue) reads require, __filename and __dirname: define them for the bundle
    banner: [
      'import { createRequire as __harnessCreateRequire } from "node:module";',
      'import { fileURLToPath as __harnessFileURLToPath } from "node:url";',
      'import { dirname as __harnessDirname } from "node:path";',
      "const require = __harnessCreateRequire(import.meta.url);",
      "const __filename = __harnessFileURLToPath(import.meta.url);",
      "const __dirname = __harnessDirname(__filename);"
    ].join("\n")
  }
})
console.error(`bundled dist/harness/cli/main.js -> ${out}`)
