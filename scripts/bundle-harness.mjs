// Bundles the compiled harness (dist/, from `npm run build`) into one ES module file with rolldown, so that a
// machine without node_modules can run it. Left out, and carried beside it by scripts/prepare-gpu-check.sh:
// native addons (better-sqlite3, dawn.node through `webgpu`) and the packages read as files at run time
// (gpt-tokenizer's CommonJS build, the SOTU corpus); the optional native TensorFlow bindings stay absent.
//   node scripts/bundle-harness.mjs OUT_FILE
import { dirname, join } from "node:path"
import { build } from "rolldown"

const out = process.argv[2]
if (!out) {
  console.error("usage: node scripts/bundle-harness.mjs OUT_FILE (after npm run build)")
  process.exit(2)
}
const external = [
  /^better-sqlite3$/,
  /^webgpu$/,
  /^gpt-tokenizer(\/.*)?$/,
  /^@stdlib\/datasets-sotu(\/.*)?$/,
  /^@tensorflow\/tfjs-node(-gpu)?$/
]
// Modules that run as a script when they are the process's main file (they compare import.meta.url with argv[1]):
// inside a bundle every module shares the bundle's URL, so each is given the URL of its own file beside it. The
// engine benchmark spawns its variants as `node bench-engine-child.mjs <request>`: that file is bundled too. (Its
// peer programs, harness/bench/engine/peers/, are read from peers/ beside the bundle: prepare-gpu-check.sh copies them.)
const ownFiles = [
  ["dist/harness/bench/engine/child.js", "bench-engine-child.mjs"],
  ["dist/harness/bench/embedding-microbench.js", "embedding-microbench.mjs"]
]
const ownUrl = (entry) => ({
  name: "own-import-meta-url",
  transform(code, id) {
    const hit = ownFiles.find(([file]) => id.endsWith(file) && !entry.endsWith(file))
    return hit ? code.replaceAll("import.meta.url", `new URL("./${hit[1]}", import.meta.url).href`) : null
  }
})
const bundle = (input, file) =>
  build({
    input,
    platform: "node",
    external,
    logLevel: "warn",
    plugins: [ownUrl(input)],
    output: {
      file,
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
await bundle("dist/harness/cli/main.js", out)
await bundle("dist/harness/bench/engine/child.js", join(dirname(out), "bench-engine-child.mjs"))
console.error(`bundled dist/harness/cli/main.js -> ${out} (and bench-engine-child.mjs beside it)`)
