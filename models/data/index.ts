export * from "./corpus.js"
export * from "./errors.js"
export * from "./passkey.js"
export * from "./tokenizer.js"
