/**
 * The FoPE paper's claims (Hua et al., "Fourier Position Embedding: Enhancing Attention's Periodic Extension for
 * Length Generalization", ICML 2025), and the classic extrapolation shape they build on (Press et al., "Train
 * Short, Test Long", ICLR 2022), declared as data: each claim names the suite that tests it, the tables that
 * show it and the paired comparisons that decide it. The verdicts are computed from the ledger (compare.ts);
 * nothing here states a result.
 *
 * A claim is "reproduced" when every comparison holds, "not reproduced" when every one is contradicted,
 * "partly reproduced" when some hold and some are contradicted, and "inconclusive" otherwise, or when a
 * precondition fails (the task was not learned at the training length, so its extrapolation says nothing).
 */
import type { ComparisonSpec, Side } from "./compare.js"
import type { Statistic } from "./statistic.js"

export interface Precondition {
  readonly text: string
  readonly side: Side
  /** the mean of the statistic over seeds must be at least this */
  readonly atLeast: number
}

export interface ClaimTable {
  readonly caption: string
  readonly metric: string
  readonly series: ReadonlyArray<string>
}

export interface Claim {
  readonly id: number
  readonly title: string
  readonly statement: string
  readonly suite: string
  readonly tables: ReadonlyArray<ClaimTable>
  readonly preconditions: ReadonlyArray<Precondition>
  readonly comparisons: ReadonlyArray<ComparisonSpec>
}

const pplBeyond: Statistic = { kind: "beyond", metric: "perplexity", fromMultiple: 1, log: true }
const yarnBeyond: Statistic = { kind: "beyond", metric: "perplexity@yarn", fromMultiple: 1, log: true }
const degradation: Statistic = { kind: "degradation", metric: "perplexity" }
const passkeyAt1x: Statistic = { kind: "at", metric: "passkey_accuracy", multiple: 1, log: false }
const passkeyBeyond2x: Statistic = { kind: "beyond", metric: "passkey_accuracy", fromMultiple: 2, log: false }

const lower = (text: string, a: Side, b: Side): ComparisonSpec => ({ text, a, b, expect: "lower" })
const higher = (text: string, a: Side, b: Side): ComparisonSpec => ({ text, a, b, expect: "higher" })

export const PERPLEXITY_SUITE = "claims-perplexity"
export const PASSKEY_SUITE = "claims-passkey"

export const CLAIMS: ReadonlyArray<Claim> = [
  {
    id: 1,
    title: "Passkey retrieval beyond the training length",
    statement:
      "RoPE's passkey accuracy collapses beyond about 2x the training length; FoPE's stays roughly flat (ALiBi declines gradually).",
    suite: PASSKEY_SUITE,
    tables: [{ caption: "Passkey accuracy by evaluation length", metric: "passkey_accuracy", series: ["rope", "fope", "alibi", "nope"] }],
    preconditions: [
      {
        text: "RoPE learned the task at the training length (mean accuracy at 1x ≥ 0.5)",
        side: { series: "rope", stat: passkeyAt1x },
        atLeast: 0.5
      },
      {
        text: "FoPE learned the task at the training length (mean accuracy at 1x ≥ 0.5)",
        side: { series: "fope", stat: passkeyAt1x },
        atLeast: 0.5
      }
    ],
    comparisons: [
      lower(
        "RoPE's accuracy beyond 2x is below its accuracy at 1x",
        { series: "rope", stat: passkeyBeyond2x },
        { series: "rope", stat: passkeyAt1x }
      ),
      higher(
        "FoPE's accuracy beyond 2x is above RoPE's",
        { series: "fope", stat: passkeyBeyond2x },
        { series: "rope", stat: passkeyBeyond2x }
      )
    ]
  },
  {
    id: 2,
    title: "Perplexity beyond the training length",
    statement: "Beyond the training length FoPE's perplexity is far below RoPE's, and a little above ALiBi's.",
    suite: PERPLEXITY_SUITE,
    tables: [{ caption: "Perplexity by evaluation length", metric: "perplexity", series: ["rope", "fope", "alibi", "nope"] }],
    preconditions: [],
    comparisons: [
      lower(
        "FoPE's perplexity beyond L (geometric mean over 2x-16x) is below RoPE's",
        { series: "fope", stat: pplBeyond },
        { series: "rope", stat: pplBeyond }
      ),
      higher("FoPE's perplexity beyond L is above ALiBi's", { series: "fope", stat: pplBeyond }, { series: "alibi", stat: pplBeyond })
    ]
  },
  {
    id: 3,
    title: "Ablations: the Fourier series and the floor clip",
    statement: "Removing the Fourier series (sigma 0) or the floor clipping each hurts extrapolation.",
    suite: PERPLEXITY_SUITE,
    tables: [{ caption: "Perplexity by evaluation length", metric: "perplexity", series: ["fope", "fope-sigma0", "fope-noclip", "rope"] }],
    preconditions: [],
    comparisons: [
      higher(
        "FoPE without its Fourier series (sigma 0) has a higher perplexity beyond L than FoPE",
        { series: "fope-sigma0", stat: pplBeyond },
        { series: "fope", stat: pplBeyond }
      ),
      higher(
        "FoPE without the floor clip has a higher perplexity beyond L than FoPE",
        { series: "fope-noclip", stat: pplBeyond },
        { series: "fope", stat: pplBeyond }
      )
    ]
  },
  {
    id: 4,
    title: "YaRN on FoPE and on RoPE",
    statement: "The YaRN extension works better on FoPE than on RoPE.",
    suite: PERPLEXITY_SUITE,
    tables: [
      {
        caption: "Perplexity under YaRN (with its attention temperature) by evaluation length",
        metric: "perplexity@yarn",
        series: ["rope", "fope"]
      },
      { caption: "Perplexity without an extension, for reference", metric: "perplexity", series: ["rope", "fope"] }
    ],
    preconditions: [],
    comparisons: [
      lower(
        "FoPE + YaRN has a lower perplexity beyond L than RoPE + YaRN",
        { series: "fope", stat: yarnBeyond },
        { series: "rope", stat: yarnBeyond }
      )
    ]
  },
  {
    id: 5,
    title: "Spectrum damage",
    statement: "RoPE's attention suffers more spectral damage than FoPE's.",
    suite: PERPLEXITY_SUITE,
    tables: [],
    preconditions: [],
    comparisons: [
      higher(
        "RoPE's spectrum damage is above FoPE's",
        { series: "rope", stat: { kind: "scalar", metric: "spectrum_damage" } },
        { series: "fope", stat: { kind: "scalar", metric: "spectrum_damage" } }
      )
    ]
  },
  {
    id: 6,
    title: "The classic extrapolation shape",
    statement:
      "As in the ALiBi paper: sinusoidal explodes beyond L, rotary degrades, T5 bias and ALiBi stay nearly flat. As in the FoPE paper's toy table: " +
      "RoPE has the lower loss at L and NoPE the lower loss at 16x (RoPE 5.50 -> 7.16, NoPE 5.65 -> 6.99). Trends, not values.",
    suite: PERPLEXITY_SUITE,
    tables: [
      { caption: "Perplexity by evaluation length", metric: "perplexity", series: ["sinusoidal", "rope", "t5", "alibi", "nope"] },
      { caption: "Validation loss by evaluation length (the FoPE toy table's unit)", metric: "val_loss", series: ["rope", "nope"] }
    ],
    preconditions: [],
    comparisons: [
      higher(
        "sinusoidal degrades more than RoPE beyond L (log perplexity beyond L minus at L)",
        { series: "sinusoidal", stat: degradation },
        { series: "rope", stat: degradation }
      ),
      higher("RoPE degrades more than T5 bias", { series: "rope", stat: degradation }, { series: "t5", stat: degradation }),
      higher("RoPE degrades more than ALiBi", { series: "rope", stat: degradation }, { series: "alibi", stat: degradation }),
      lower(
        "RoPE's validation loss at L is below NoPE's",
        { series: "rope", stat: { kind: "at", metric: "val_loss", multiple: 1, log: false } },
        { series: "nope", stat: { kind: "at", metric: "val_loss", multiple: 1, log: false } }
      ),
      lower(
        "NoPE's validation loss at 16x is below RoPE's",
        { series: "nope", stat: { kind: "at", metric: "val_loss", multiple: 16, log: false } },
        { series: "rope", stat: { kind: "at", metric: "val_loss", multiple: 16, log: false } }
      )
    ]
  }
]
