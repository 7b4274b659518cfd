import { it } from "vitest"
import { rotaryTableValues } from "../../embeddings/rotary-tables.js"
import { ropeFrequencies } from "../../embeddings/rotary-frequencies.js"
it("dbg", async () => {
  const w = ropeFrequencies(8, 10000)
  console.log("w", Array.from(w).join(","))
  const t = rotaryTableValues(w, 5)
  console.log("cos", Array.from(t.cos).map((x) => x.toFixed(3)).join(","))
  console.log("cos4", Math.cos(4 * w[0]!), 4 * w[0]!)
})
