import type { DatasetId, RawElement } from './isams-lib';

/**
 * How long one school's iSAMS takes to generate a Batch API document, and when it gives up.
 *
 * ASSUMED ([S]/[I] in reference §1.8 and §4 item 1): iSAMS generates the document on request and
 * returns an error after an internal limit of about 35 s; Xronos saw even small requests time out
 * sometimes and deadlocks ("deadly embrace") during generation. How the time grows with the request
 * is [U]: the simulator charges a fixed cost per method run plus a cost per row generated (the
 * school's size), so a `MethodsToRun` subset is cheaper than the whole key. Defaults cost nothing,
 * so a school generates instantly unless a test or a demo configures it.
 */
export interface GenerationModel {
  /** iSAMS gives up after this long and answers the 500 time-out document (~35 s). */
  limitMs: number;
  /** Time per method run (per dataset generated). */
  msPerMethod: number;
  /** Time per 1,000 rows generated. */
  msPer1000Rows: number;
  /**
   * Chance that generating 1,000 rows hits a deadlock; it compounds with the rows of the request
   * (`1 − (1 − p)^(rows/1000)`), so bigger requests deadlock more often. 0 = never.
   */
  deadlockPer1000Rows: number;
}

export const DEFAULT_GENERATION_MODEL: Readonly<GenerationModel> = {
  limitMs: 35_000,
  msPerMethod: 0,
  msPer1000Rows: 0,
  deadlockPer1000Rows: 0,
};

/** What generating one request costs. */
export interface GenerationCost {
  methods: number;
  rows: number;
  /** Generation time in ms (rounded). */
  ms: number;
}

export type GenerationOutcome =
  /** The document was generated after `ms`. */
  | { kind: 'generated'; ms: number }
  /** The limit was reached after `ms` (= the limit): iSAMS answers the time-out document. */
  | { kind: 'timeout'; ms: number }
  /** Generation was chosen as a deadlock victim after `ms`. */
  | { kind: 'deadlock'; ms: number };

/** The cost of generating `selected` from `rows` under `model`. */
export function generationCost(
  model: GenerationModel,
  rows: Readonly<Record<DatasetId, readonly RawElement[]>>,
  selected: Iterable<DatasetId>,
): GenerationCost {
  let methods = 0;
  let rowCount = 0;
  for (const d of selected) {
    methods += 1;
    rowCount += rows[d].length;
  }
  return {
    methods,
    rows: rowCount,
    ms: Math.round(methods * model.msPerMethod + (rowCount / 1000) * model.msPer1000Rows),
  };
}

/**
 * Decides one generation. `draw` is a uniform number in [0, 1) from the school's seeded generator
 * (one per generation, so a school's sequence of outcomes is reproducible).
 * ASSUMED ([U] in reference §1.8): a deadlock victim is reported halfway through the generation
 * (never later than the limit); a generation longer than the limit is abandoned at the limit.
 */
export function decideGeneration(
  model: GenerationModel,
  cost: GenerationCost,
  draw: number,
): GenerationOutcome {
  const p =
    model.deadlockPer1000Rows > 0
      ? 1 - (1 - Math.min(1, model.deadlockPer1000Rows)) ** (cost.rows / 1000)
      : 0;
  if (draw < p) return { kind: 'deadlock', ms: Math.round(Math.min(cost.ms, model.limitMs) / 2) };
  if (cost.ms > model.limitMs) return { kind: 'timeout', ms: model.limitMs };
  return { kind: 'generated', ms: cost.ms };
}
