/**
 * The ledger's integrity at the time the page was written: the verdict of `harness ledger verify` (its own text),
 * and the head hash. A page whose numbers came from a tampered ledger says so first, in red.
 */
import { esc, hashCode } from "./elements.js"
import type { HtmlView } from "./view.js"

export const INTEGRITY_ID = "ledger-integrity"

export const integritySection = (view: HtmlView): string => {
  const v = view.verify
  const problems = v.problems.map((p) => `<li><code>${esc(`${p.table} ${p.id}`)}</code>: ${esc(p.reason)}</li>`)
  return [
    `<section id="${INTEGRITY_ID}" class="integrity ${v.ok ? "ok" : "bad"}">`,
    `<h2>Ledger integrity</h2>`,
    `<p class="verdict" data-verify="${v.ok ? "ok" : "failed"}">${v.ok ? "Verified" : "NOT VERIFIED"}: ${esc(
      v.ok
        ? "every record hash, the hash chain and the tables agree (the same check as harness ledger verify)."
        : "harness ledger verify found a problem: the numbers below may not be what was recorded."
    )}</p>`,
    `<dl>`,
    `<dt>Ledger file</dt><dd><code>${esc(view.ledgerPath)}</code></dd>`,
    `<dt>Head record hash</dt><dd>${view.headHash ? hashCode(view.headHash) : "(empty ledger)"}</dd>`,
    ...(v.records !== null ? [`<dt>Records checked</dt><dd>${esc(String(v.records))}</dd>`] : []),
    `</dl>`,
    `<pre class="verify-output">${esc(v.text)}</pre>`,
    ...(problems.length > 0 ? [`<ul class="problems">\n${problems.join("\n")}\n</ul>`] : []),
    `<p class="note">Keep the head hash somewhere else: a ledger cut short after it was written still verifies, but ends at another hash.</p>`,
    `</section>`
  ].join("\n")
}
