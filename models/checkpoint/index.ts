export * from "./checkpoint.js"
export { CheckpointError, MANIFEST_FILE, readVerifiedFiles, sha256Hex, writeCheckpointFiles, type Manifest } from "./manifest.js"
export { modelTensors, restoreModelTensors } from "./model-tensors.js"
export {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  type NamedArray,
  type SafetensorsContent,
  type SafetensorsDtype
} from "./safetensors.js"
export { loadDecoder, type LoadedDecoder } from "./load-decoder.js"
export { llamaExport, writeLlamaExport, LLAMA_EXPORTABLE, type LlamaExport } from "./export-llama.js"
