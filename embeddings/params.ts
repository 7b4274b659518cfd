/** ParamSpecs shared by several methods. */
import type { ParamSpec } from "./interface.js"

export const BASE_PARAM: ParamSpec = {
  name: "base",
  type: "number",
  default: 10000,
  min: 2,
  max: 1e9,
  doc: "rotary base b of the frequency grid w_k = b^(-2k/d) (RoFormer: 10000)"
}

/** Reads a resolved numeric parameter (the registry has validated it). */
export const num = (params: Readonly<Record<string, unknown>>, name: string): number => params[name] as number
export const bool = (params: Readonly<Record<string, unknown>>, name: string): boolean => params[name] as boolean
