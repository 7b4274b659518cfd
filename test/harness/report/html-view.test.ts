/**
 * The HTML ledger view (`harness report <suite> --html`, `harness ledger view`) on a small real ledger
 * (html-ledger.ts): the page as written, and the page as headless Chromium renders it: a screenshot that must not
 * be blank (decoded with png.ts) and the DOM Chromium built, which must show every section and every chart with
 * its data lines (html-view-check.ts). The checker is shown to fail a page that lacks a chart, a chart's data, a
 * section or a record's link, so a passing check means the page has them.
 *
 * Without Chromium the browser tests skip locally, saying why; under CI=true they FAIL: CI must install Debian's
 * chromium package (.ci/run does).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import Database from "better-sqlite3"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LedgerStore } from "../../../ledger/store.js"
import { loadView } from "../../../harness/report/html/load-view.js"
import { renderHtmlView } from "../../../harness/report/html/page.js"
import { harness } from "../helpers.js"
import { elements, parseHtml, textOf } from "./html-dom.js"
import { HOSTILE, SUITE, writeHtmlLedger } from "./html-ledger.js"
import { checkHtmlView, type ViewExpectations } from "./html-view-check.js"
import { countNear, decodePng, imageStats, pixelAt } from "./png.js"

const dir = mkdtempSync(join(tmpdir(), "fope-html-view-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const ledger = writeHtmlLedger(join(dir, "ledger.db"))

const HEADINGS = [
  "Ledger integrity",
  "Report: synthetic",
  "Perplexity by evaluation length",
  "Loss by position",
  "Passkey retrieval",
  "Inference-time extensions",
  "pi",
  "yarn",
  "Training",
  "Spectrum damage",
  "Appendix: Provenance",
  "Per-job perplexity",
  "Jobs",
  "Runs",
  "Ledger records"
]
const CHARTS = [
  "perplexity-by-length.svg",
  "loss-by-position-256.svg",
  "passkey-accuracy.svg",
  "perplexity-extensions.svg",
  "training-loss.svg"
]

const expectations = (overrides: Partial<ViewExpectations> = {}): ViewExpectations => ({
  headings: HEADINGS,
  charts: CHARTS,
  records: ledger.doneHashes,
  headHash: ledger.headHash,
  verified: true,
  ...overrides
})

const pageOf = (path: string, suite?: string): string => {
  const store = LedgerStore.open(path, { readonly: true })
  try {
    return renderHtmlView(loadView(store, { ...(suite !== undefined ? { suite } : {}), generatedAt: "2026-11-26T08:00:00.000Z" }))
  } finally {
    store.close()
  }
}

/** Only the figure for `chart`, from <figure ...> to its </figure>. */
const figureOf = (page: string, chart: string): string => {
  const match = new RegExp(`<figure [^>]*data-chart="${chart.replace(/\./g, "\\.")}"[\\s\\S]*?</figure>`).exec(page)
  if (!match) throw new Error(`no figure for ${chart}`)
  return match[0]
}

describe("the HTML view as written", () => {
  const page = pageOf(ledger.path, SUITE)

  it("shows every section and chart, a row and a link for every done record, the head hash and the verify verdict", () => {
    expect(ledger.doneHashes).toHaveLength(6)
    expect(checkHtmlView(page, expectations())).toEqual([])
  })

  it("fails the check when a chart, a chart's data, a section or a record's link is missing", () => {
    expect(checkHtmlView(page.replace(figureOf(page, "passkey-accuracy.svg"), ""), expectations())).toEqual([
      "chart passkey-accuracy.svg is missing"
    ])
    const training = figureOf(page, "training-loss.svg")
    const noLines = page.replace(training, training.replace(/<polyline class="series-line"[^>]*\/>/g, ""))
    expect(checkHtmlView(noLines, expectations())).toEqual([
      "chart training-loss.svg has no data line (no series-line polyline with two points)"
    ])
    const noSvg = page.replace(training, training.replace(/<svg[\s\S]*<\/svg>/, ""))
    expect(checkHtmlView(noSvg, expectations())).toEqual(["chart training-loss.svg has no <svg>"])
    // the contents still link to the heading that went
    expect(checkHtmlView(page.replace(/<h3 [^>]*>Spectrum damage<\/h3>/, ""), expectations())).toEqual([
      `section "Spectrum damage" is missing`,
      "1 link(s) point nowhere, e.g. #suite-0-synthetic-spectrum-damage"
    ])
    const hash = ledger.doneHashes[0]!
    const unlinked = checkHtmlView(page.replaceAll(`href="#record-${hash}"`, `href="#nowhere"`), expectations())
    expect(unlinked).toContain(`no number links to record ${hash}`)
    expect(unlinked.some((p) => p.includes("point nowhere"))).toBe(true)
    expect(checkHtmlView(page, expectations({ verified: false }))).toEqual([`the verify verdict "failed" is not shown (found: ok)`])
    expect(checkHtmlView(page.replace("</main>", `<img src="https://example.org/x.png"></main>`), expectations())).toEqual([
      "1 element(s) load or link outside the page, e.g. <img>"
    ])
  })

  it("escapes what came from the ledger: a job's error and a run's environment show as text, never as markup", () => {
    const all = elements(parseHtml(page))
    expect(all.filter((e) => e.name === "img" || e.name === "script" || e.name === "b")).toEqual([])
    const body = textOf(all.find((e) => e.name === "body")!)
    expect(body).toContain(HOSTILE)
    expect(body).toContain("Test CPU <b>bold</b>")
  })

  it("titles each table row with the job.done records behind its numbers, and links each job's numbers to its record", () => {
    const store = LedgerStore.open(ledger.path, { readonly: true })
    const ropeJobs = store.jobs({ suite: SUITE }).filter((j) => j.name.includes("/rope/"))
    const metricCount = store.metrics(ropeJobs[0]!.id).length
    store.close()
    const all = elements(parseHtml(page))
    const ropeRecords = all.filter((e) => e.name === "tr" && e.attributes["data-records"] !== undefined && textOf(e).startsWith("rope "))
    // perplexity, passkey, training, spectrum, and the two extension rows per extension
    expect(ropeRecords.length).toBeGreaterThanOrEqual(4)
    for (const row of ropeRecords) expect(row.attributes["data-records"]!.split(" ")).toHaveLength(2)
    const recordOfRopeSeed0 = ledger.doneHashes[2]!
    // the job's numbers: one row per metric, each value a link to the record, the table titled with its hash
    const numbers = all.find((e) => e.name === "div" && e.attributes["title"] === `job.done record ${recordOfRopeSeed0}`)!
    const rows = elements(numbers)
      .filter((e) => e.name === "tbody")
      .flatMap((b) => b.children.filter((c) => c.name === "tr"))
    expect(rows).toHaveLength(metricCount)
    for (const row of rows)
      expect(
        elements(row)
          .filter((e) => e.name === "a")
          .map((a) => a.attributes["href"])
      ).toEqual([`#record-${recordOfRopeSeed0}`])
  })

  it("says when the ledger does not verify: a metric changed behind the harness's back", () => {
    const tampered = join(dir, "tampered.db")
    copyFileSync(ledger.path, tampered)
    const db = new Database(tampered)
    expect(db.prepare("UPDATE metrics SET value = value + 1 WHERE name = 'perplexity' AND length = 64").run().changes).toBeGreaterThan(0)
    db.close()
    const bad = pageOf(tampered, SUITE)
    expect(checkHtmlView(bad, expectations({ verified: false }))).toEqual([])
    expect(bad).toContain("TAMPERED")
    expect(bad).toContain("LEDGER NOT VERIFIED")
  })

  it("with every suite of the ledger: each suite in its own part, ids still unique", () => {
    const two = join(dir, "two-suites.db")
    copyFileSync(ledger.path, two)
    const store = LedgerStore.open(two)
    const run = store.beginRun({ suite: "second", git: { commit: null, dirtyHash: null }, environment: {} })
    const job = store.startJob({
      runId: run.id,
      key: "k2",
      name: "second/rope/nano/seed0",
      config: { embedding: { label: "rope" }, model: { scale: "nano", trainLength: 64 } },
      seed: 0
    })
    store.completeJob(job.id, {
      metrics: [64, 128].map((length) => ({ name: "perplexity", value: length / 4, unit: "ppl", better: "lower" as const, length }))
    })
    store.finishRun(run.id)
    const hashes = [...store.chainRecords()].filter((r) => r.kind === "job.done").map((r) => r.hash)
    const head = store.head()!.hash
    store.close()
    const page2 = pageOf(two)
    expect(checkHtmlView(page2, expectations({ headings: [...HEADINGS, "Report: second"], records: hashes, headHash: head }))).toEqual([])
    expect((page2.match(/<figure [^>]*data-chart="perplexity-by-length.svg"/g) ?? []).length).toBe(2)
  })
})

describe("the commands", () => {
  it("harness report --html and harness ledger view --suite write the same self-contained page", async () => {
    const report = await harness("report", SUITE, "--html", "--ledger", ledger.path, "--out", join(dir, "report"))
    expect(report.exitCode).toBe(0)
    expect(report.out).toMatch(
      /wrote .*index\.html .*1 suite\(s\), 1 run\(s\), 7 job\(s\), 5 chart\(s\); ledger verified, head [0-9a-f]{64}/
    )
    const view = await harness("ledger", "view", "--suite", SUITE, "--ledger", ledger.path, "--out", join(dir, "view.html"))
    expect(view.exitCode).toBe(0)
    const timeless = (html: string) => html.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<time>")
    const fromReport = readFileSync(join(dir, "report", "index.html"), "utf8")
    expect(timeless(fromReport)).toBe(timeless(readFileSync(join(dir, "view.html"), "utf8")))
    expect(checkHtmlView(fromReport, expectations())).toEqual([])
  }, 60_000)

  it("a suite the ledger does not hold is a usage error that names the suites it holds", async () => {
    const r = await harness("ledger", "view", "--suite", "quickstart", "--ledger", ledger.path, "--out", join(dir, "none.html"))
    expect(r.exitCode).toBe(1)
    expect(r.err).toMatch(/holds no jobs of suite "quickstart". Suites it holds: synthetic/)
  }, 60_000)
})

/** Debian's chromium (a wrapper script) or another name for it on PATH. */
const findChromium = (): { path: string | null; version: string; why: string } => {
  for (const name of ["chromium", "chromium-browser"]) {
    const r = spawnSync(name, ["--version"], { encoding: "utf8", timeout: 60_000 })
    if (r.status === 0) return { path: name, version: r.stdout.trim(), why: "" }
  }
  return { path: null, version: "", why: "no chromium on PATH (Debian: apt-get install --no-install-recommends chromium)" }
}

const browser = findChromium()
const inCi = process.env.CI === "true"

const title = `in headless Chromium (${browser.path ? browser.version : `${inCi ? "CI=true, so a failure" : "skipped"}: ${browser.why}`})`

describe.skipIf(!browser.path && !inCi)(title, () => {
  const pageFile = join(dir, "browser", "index.html")
  const screenshot = join(dir, "page.png")
  let dom = ""

  beforeAll(async () => {
    if (!browser.path) return
    const r = await harness("report", SUITE, "--html", "--ledger", ledger.path, "--out", join(dir, "browser"))
    expect(r.exitCode).toBe(0)
    // a profile of its own: nothing read from or left in the user's, and two runs never share one
    const flags = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--hide-scrollbars",
      "--no-first-run",
      `--user-data-dir=${join(dir, "profile")}`
    ]
    const url = pathToFileURL(pageFile).href
    execFileSync(browser.path, [...flags, `--screenshot=${screenshot}`, "--window-size=1200,2000", url], {
      timeout: 180_000,
      stdio: ["ignore", "ignore", "pipe"]
    })
    dom = execFileSync(browser.path, [...flags, "--dump-dom", url], {
      timeout: 180_000,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"]
    })
  }, 420_000)

  it("chromium is installed (under CI=true a missing one is a failure, not a skip)", () => {
    expect(browser.path, browser.why).not.toBeNull()
  })

  it("renders a screenshot that is not blank: the page's text, its header and the charts' line colours", () => {
    const image = decodePng(readFileSync(screenshot))
    expect([image.width, image.height]).toEqual([1200, 2000])
    const stats = imageStats(image)
    expect(stats.nonWhite / (image.width * image.height)).toBeGreaterThan(0.02)
    expect(stats.distinctColours).toBeGreaterThan(256)
    // the page header's background (#f7f8fa), top left
    expect(pixelAt(image, 5, 5).slice(0, 3)).toEqual([247, 248, 250])
    // the three series' colours (Okabe-Ito blue, orange, bluish green): the first charts are on screen
    for (const colour of [
      [0, 114, 178],
      [230, 159, 0],
      [0, 158, 115]
    ] as const)
      expect(countNear(image, colour, 8), `pixels near rgb(${colour.join(",")})`).toBeGreaterThan(200)
    expect(statSync(screenshot).size).toBeGreaterThan(20_000)
  })

  it("builds a DOM with every section, every chart's <svg> with its data lines, and every record linked", () => {
    expect(dom).toMatch(/^(<!DOCTYPE html>\s*)?<html/)
    expect(checkHtmlView(dom, expectations())).toEqual([])
  })
})
