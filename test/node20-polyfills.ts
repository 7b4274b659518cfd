/**
 * vitest 5's reporters call Map.groupBy (ES2024), which Node 20 lacks: without this, a FAILING test crashes the
 * reporter ("Map.groupBy is not a function") and its assertion message is never shown. Loaded by
 * vitest.config.ts, i.e. in the main process where the reporters run. Harmless on Node >= 21.
 */
const mapWithGroupBy = Map as unknown as { groupBy?: <K, T>(items: Iterable<T>, key: (item: T, index: number) => K) => Map<K, T[]> }
if (typeof mapWithGroupBy.groupBy !== "function") {
  mapWithGroupBy.groupBy = <K, T>(items: Iterable<T>, key: (item: T, index: number) => K): Map<K, T[]> => {
    const groups = new Map<K, T[]>()
    let i = 0
    for (const item of items) {
      const k = key(item, i++)
      const g = groups.get(k)
      if (g) g.push(item)
      else groups.set(k, [item])
    }
    return groups
  }
}
const objectWithGroupBy = Object as unknown as {
  groupBy?: <T>(items: Iterable<T>, key: (item: T, index: number) => PropertyKey) => Record<PropertyKey, T[]>
}
if (typeof objectWithGroupBy.groupBy !== "function") {
  objectWithGroupBy.groupBy = <T>(items: Iterable<T>, key: (item: T, index: number) => PropertyKey): Record<PropertyKey, T[]> => {
    const groups: Record<PropertyKey, T[]> = Object.create(null)
    let i = 0
    for (const item of items) (groups[key(item, i++)] ??= []).push(item)
    return groups
  }
}
export {}
