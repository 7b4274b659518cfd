/** `harness list`: what can go in a suite — suites, embeddings (with parameters), scales, backends. */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { EMBEDDINGS, embeddingParamSpecs } from "../../../embeddings/registry.js"
import { EXTENSION_CATALOGUE } from "../../../embeddings/rotary-extensions.js"
import { SYNTHETIC_CATALOGUE } from "../../../models/data/synthetic-tasks.js"
import { SCALES } from "../../../models/scales.js"
import { BACKEND_CHOICES } from "../../../suites/schema.js"
import { listSuiteNames, loadSuite } from "../../suite/load-suite.js"
import { renderTable } from "../../table.js"

const WHAT = ["all", "suites", "embeddings", "extensions", "tasks", "scales", "backends"] as const

const backendNotes: Record<(typeof BACKEND_CHOICES)[number], string> = {
  auto: "tensorflow when @tensorflow/tfjs-node(-gpu) loads, else webgpu on a hardware adapter, else wasm",
  tensorflow: "native TensorFlow (GPU build first); optional, needs libtensorflow",
  webgpu: "tfjs-backend-webgpu on Dawn: a GPU through Vulkan; on a CPU machine a software adapter (slow, for tests)",
  wasm: "tfjs WebAssembly + XNNPACK with the harness's kernel work; the default CPU engine",
  cpu: "tfjs pure-JS reference backend; slow, used for parity checks"
}

export const listText = (what: (typeof WHAT)[number]): string => {
  const parts: string[] = []
  if (what === "all" || what === "suites") {
    parts.push(
      "SUITES\n" +
        renderTable(
          ["name", "description"],
          listSuiteNames().map((n) =>
            Effect.runSync(
              loadSuite(n).pipe(
                Effect.map(({ suite }) => [n, suite.description.slice(0, 100)]),
                Effect.catchTag("SuiteError", (e) => Effect.succeed([n, `(invalid: ${e.message.split("\n")[0]})`]))
              )
            )
          )
        )
    )
  }
  if (what === "all" || what === "embeddings") {
    parts.push(
      "EMBEDDINGS\n" +
        renderTable(
          ["name", "family", "parameters (default)", "description"],
          Object.values(EMBEDDINGS).map((m) => [
            m.name,
            m.family,
            embeddingParamSpecs(m)
              .map((p) => `${p.name}=${String(p.default)}`)
              .join(" ") || "-",
            m.description
          ])
        )
    )
  }
  if (what === "all" || what === "extensions") {
    parts.push(
      "EXTENSIONS (inference-time, rotary family; evaluation.extensions in a suite, --extension in harness eval; their tables: harness inspect rope --extension yarn --eval-length 1024)\n" +
        renderTable(
          ["name", "parameters (default)", "description"],
          EXTENSION_CATALOGUE.map((e) => [e.name, e.parameters, e.description])
        )
    )
  }
  if (what === "all" || what === "tasks") {
    parts.push(
      'SYNTHETIC TASKS (data.synthetic: the training mixture; evaluation task "synthetic": accuracy.<task> and exact.<task> by length)\n' +
        renderTable(
          ["name", "parameters", "description"],
          SYNTHETIC_CATALOGUE.map((t) => [t.name, t.parameters, t.description])
        )
    )
  }
  if (what === "all" || what === "scales") {
    parts.push(
      "SCALES\n" +
        renderTable(
          ["name", "d_model", "heads", "layers", "ffn", "needs GPU", "description"],
          Object.values(SCALES).map((s) => [
            s.name,
            String(s.dModel),
            String(s.heads),
            String(s.layers),
            String(s.ffnHidden),
            s.gpuOnly ? "yes" : "no",
            s.description
          ])
        )
    )
  }
  if (what === "all" || what === "backends") {
    parts.push(
      "BACKENDS\n" +
        renderTable(
          ["name", "what it is"],
          BACKEND_CHOICES.map((b) => [b, backendNotes[b]])
        )
    )
  }
  return parts.join("\n\n")
}

export const listCommand = Command.make(
  "list",
  {
    what: Flag.Literals("what", WHAT).pipe(Flag.withDefault("all" as const), Flag.withDescription("show only this part"))
  },
  ({ what }) => Console.log(listText(what))
).pipe(
  Command.withDescription(
    "List what a suite can name: the shipped suites, the position embeddings with their parameters and defaults, the model scales (and which need a GPU), and the tensor backends."
  ),
  Command.withExamples([{ command: "harness list --what embeddings", description: "every embedding and its parameters" }])
)
