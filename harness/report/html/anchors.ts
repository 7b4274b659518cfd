/**
 * Fragment identifiers of the HTML view. Every number links to the ledger record it came from by one of these,
 * so they are built in one place: the link and its target cannot drift apart. Ids come from the ledger (UUIDs,
 * sha256 hex), but are reduced to a safe alphabet anyway: an id never needs escaping in `id` or `href`.
 */

/** Keeps letters, digits, "-" and "_"; every other character becomes "." and its code point in hex. */
export const anchorPart = (text: string): string => text.replace(/[^A-Za-z0-9_-]/gu, (c) => `.${c.codePointAt(0)!.toString(16)}`)

export const recordAnchor = (hash: string): string => `record-${anchorPart(hash)}`
export const jobAnchor = (jobId: string): string => `job-${anchorPart(jobId)}`
export const runAnchor = (runId: string): string => `run-${anchorPart(runId)}`
/** A suite's part of the page; `index` keeps two suites whose names reduce alike apart. */
export const suiteAnchor = (index: number, suite: string): string => `suite-${index}-${anchorPart(suite)}`

/** The first 12 hex digits: what the Markdown report prints, enough to find a record with the ledger commands. */
export const shortHash = (hash: string): string => hash.slice(0, 12)
