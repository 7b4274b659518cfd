import { describe, expect, it } from "vitest"
import { formatNumber } from "../../ledger/table.js"

describe("formatNumber (every table's numbers)", () => {
  it("4 significant digits below 10,000, whole numbers from 10,000 to a million, exponents beyond", () => {
    expect(formatNumber(6.31749)).toBe("6.317")
    expect(formatNumber(10.8812)).toBe("10.88")
    expect(formatNumber(7858.4)).toBe("7858")
    expect(formatNumber(11003.4)).toBe("11003") // was "1.100e+4"
    expect(formatNumber(-25000.6)).toBe("-25001")
    expect(formatNumber(2.5e6)).toBe("2.500e+6")
    expect(formatNumber(0.0004)).toBe("4.000e-4")
    expect(formatNumber(0)).toBe("0")
    expect(formatNumber(null)).toBe("-")
    expect(formatNumber(Number.NaN)).toBe("-")
  })
})
