import { defineConfig } from "vitest/config"
import "./test/node20-polyfills.js"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tensor work is CPU-bound on a 2-core machine: run test files one at a time per worker,
    // and give training-based tests room without ever asserting on time.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000
  }
})
