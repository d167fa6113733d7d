import { DATASETS, DATASET_IDS, isDatasetId } from '@isams-sync/isams';
import type { DatasetId } from '@isams-sync/isams';

/**
 * Fetching a school's one Batch API key in method groups (`MethodsToRun`, reference §1.2): which
 * groups, how to split a group that still fails, how to assemble one snapshot from the groups of a
 * run. Pure: the adapter (`adapters/isams/batch-source.ts`) does the requests and asks this planner
 * what to do next.
 */

/** `whole`: one request for the whole key. `groups`: one request per method group. */
export type FetchMode = 'whole' | 'groups';

/** How one school is fetched; persisted per school between runs. */
export interface FetchPlan {
  mode: FetchMode;
  /** In `groups` mode, the datasets of each request in order; together every dataset exactly once. */
  groups: DatasetId[][];
  /** The Contacts (Filtered) `MethodsToRun` name iSAMS accepted last. */
  contactsMethod?: string;
  /** The error code that made the school switch to groups, and when. */
  switchedBecause?: string;
  switchedAt?: Date;
}

export const WHOLE_KEY_PLAN: Readonly<FetchPlan> = { mode: 'whole', groups: [] };

/** The first groups: the iSAMS modules (HR + School Manager, Pupil Manager, Teaching Manager). */
export const MODULE_GROUPS: readonly (readonly DatasetId[])[] = [
  ['currentStaff', 'academicHouses', 'boardingHouses', 'schoolForms', 'schoolDivisions', 'yearGroups'],
  ['contacts', 'currentPupils', 'customGroupMembership', 'customGroups'],
  ['departmentsAndSubjects', 'teachingForms', 'teachingSets', 'teachingSetLists'],
];

/**
 * Candidate `MethodsToRun` names of Contacts (Filtered), whose real name no public source gives
 * ([U] in reference §1.2). Configurable (`ISAMS_CONTACTS_METHODS`); the 403 that refuses a name
 * tells which ones iSAMS does not know, and the one it accepts is remembered per school.
 */
export const DEFAULT_CONTACTS_METHODS: readonly string[] = [
  'Pupil_GetContactsFiltered',
  'Pupil_GetFilteredContacts',
  'Pupil_GetContacts',
  'Pupil_GetStudentContacts',
];

/**
 * Failures a smaller request can avoid: iSAMS's generation time limit (or ours), a deadlock or
 * lock time-out while generating (likelier the bigger the request), and our per-response size
 * limit. Anything else (a refused key, IP, a broken document) fails the same whatever the size.
 */
const SMALLER_HELPS: ReadonlySet<string> = new Set([
  'ISAMS_TIMEOUT',
  'ISAMS_SERVER_BUSY',
  'ISAMS_RESPONSE_TOO_LARGE',
]);

/**
 * Time-outs before iSAMS even had the request (the host, the network, an allow-list that drops
 * packets): `ISAMS_TIMEOUT` too, but no smaller request avoids them.
 */
const CONNECT_TIMEOUTS: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/**
 * Whether a smaller request could avoid this failure. `networkCode`: the socket-level code behind it
 * (`details.errorCode` of the client's error), when there is one.
 */
export function needsSmallerRequests(code: string, networkCode?: string): boolean {
  if (networkCode !== undefined && CONNECT_TIMEOUTS.has(networkCode)) return false;
  return SMALLER_HELPS.has(code);
}

/** The plan after the whole-key request failed with `code`: the module groups. */
export function switchToGroups(plan: FetchPlan, code: string, at: Date): FetchPlan {
  return {
    mode: 'groups',
    groups: MODULE_GROUPS.map((g) => [...g]),
    ...(plan.contactsMethod ? { contactsMethod: plan.contactsMethod } : {}),
    switchedBecause: code,
    switchedAt: at,
  };
}

/**
 * How long a school stays in groups before a run tries its whole key again: iSAMS's time to generate
 * a document varies (a deadlock on a busy morning, a school that has since moved to a faster
 * server), and a school that needed groups once should not pay for them for ever — a whole-key
 * document is one request, and only a whole-key document can be recognised by its bytes (the
 * byte-identical skip). A week: a school that still needs groups pays the whole key's failed
 * attempts once a week.
 */
export const WHOLE_KEY_RETRY_AFTER_MS = 7 * 86_400_000;

/**
 * Whether a run of a school fetched in groups tries the whole key first: when it last needed
 * groups (`switchedAt`) at least {@link WHOLE_KEY_RETRY_AFTER_MS} ago, or a plan stored without a time.
 */
export function wholeKeyRetryDue(plan: FetchPlan, now: Date): boolean {
  if (plan.mode !== 'groups') return false;
  return (
    plan.switchedAt === undefined || now.getTime() - plan.switchedAt.getTime() >= WHOLE_KEY_RETRY_AFTER_MS
  );
}

/** The plan once the whole key was fetched again: one request; the Contacts name learnt is kept. */
export function backToWholeKey(plan: FetchPlan): FetchPlan {
  return plan.contactsMethod
    ? { ...WHOLE_KEY_PLAN, contactsMethod: plan.contactsMethod }
    : { ...WHOLE_KEY_PLAN };
}

/**
 * The plan after the whole key, tried again, failed with `code` once more: the groups it had (with
 * their splits and the Contacts name learnt), and the time it needed them moved on, so the next try
 * is a week later.
 */
export function stillInGroups(plan: FetchPlan, code: string, at: Date): FetchPlan {
  return { ...plan, groups: plan.groups.map((g) => [...g]), switchedBecause: code, switchedAt: at };
}

/** Halves a group (the first half takes the odd dataset); undefined for a single dataset. */
export function splitGroup(datasets: readonly DatasetId[]): [DatasetId[], DatasetId[]] | undefined {
  if (datasets.length < 2) return undefined;
  const half = Math.ceil(datasets.length / 2);
  return [datasets.slice(0, half), datasets.slice(half)];
}

/**
 * A stored plan made safe to use: unknown ids and repeats dropped, empty groups removed, and
 * datasets no group names (a plan stored by an older version) added as one more group, so every
 * dataset is requested exactly once.
 */
export function normalisePlan(plan: FetchPlan | null | undefined): FetchPlan {
  if (!plan || plan.mode !== 'groups') {
    return plan?.contactsMethod
      ? { ...WHOLE_KEY_PLAN, contactsMethod: plan.contactsMethod }
      : { ...WHOLE_KEY_PLAN };
  }
  const seen = new Set<DatasetId>();
  const groups: DatasetId[][] = [];
  for (const g of plan.groups) {
    const kept: DatasetId[] = [];
    for (const d of g) {
      if (!isDatasetId(d) || seen.has(d)) continue;
      seen.add(d);
      kept.push(d);
    }
    if (kept.length > 0) groups.push(kept);
  }
  const missing = DATASET_IDS.filter((d) => !seen.has(d));
  if (missing.length > 0) groups.push(missing);
  return { ...plan, groups };
}

/** One request the adapter should make. */
export interface GroupRequest {
  /** Index of the group in {@link MethodGroupPlanner.groups}. */
  group: number;
  /** The datasets asked for (the group minus those already known to be unavailable this run). */
  datasets: DatasetId[];
  /** `MethodsToRun`, each name with its dataset (Contacts may have several candidate names). */
  methods: Array<{ name: string; dataset: DatasetId }>;
}

/** What happened to a request (after the client's own retries). */
export type GroupOutcome =
  /** A complete document; `present`: the requested datasets whose container it had. */
  | { kind: 'fetched'; present: DatasetId[] }
  /** 403 MethodsNotAllocatedToKeyException; `echoed`: the method names it lists (lower-cased). */
  | { kind: 'not-allocated'; echoed: string[] }
  /** Any other failure, by its stable error code (and the socket-level code behind it, if any). */
  | { kind: 'failed'; code: string; networkCode?: string };

export type PlannerDecision =
  | { action: 'continue' }
  /** The run cannot complete: `datasets` is the group that failed. */
  | { action: 'fail'; datasets: DatasetId[] };

export type GroupStatus = 'pending' | 'done' | 'failed';

/** A group of the run as shown in the run record and progress. */
export interface MethodGroupState {
  datasets: DatasetId[];
  status: GroupStatus;
  /** How many times it was requested (a 403 round included; the client's own retries are not). */
  requests: number;
}

/** How a run was fetched (kept in the run record; shown by GetSyncRun). */
export interface RunFetch {
  mode: FetchMode;
  /** In `groups` mode, the run's groups with their outcome; empty for a whole-key fetch. */
  groups: MethodGroupState[];
  contactsMethod?: string;
  switchedBecause?: string;
  switchedAt?: Date;
}

/** A run-level finding (same shape as the parser's, tied to a dataset). */
export interface PlannerFinding {
  code: 'CONNECTOR_CONTACTS_METHOD_UNKNOWN';
  datasetId: DatasetId;
  message: string;
}

/** A defensive bound: the planner always makes progress, but a run never loops forever. */
const MAX_REQUESTS = 200;

/**
 * The method groups of one run. Call {@link next} for the request to make, {@link record} with what
 * happened, until `next()` is undefined (then {@link result}) or a decision says `fail`.
 *
 * - A group that fails with a code {@link needsSmallerRequests} is split in two (down to one method
 *   per request); any other failure, or a single method that still fails, fails the run.
 * - A 403 naming methods of the group: those datasets are absent this run (as in a whole-key fetch,
 *   where a dataset the key lacks is absent) but stay in the plan; the group is asked again.
 * - Contacts (Filtered): its name is [U]; every untried candidate is sent, the 403 says which iSAMS
 *   refuses, the accepted one is remembered. When none is accepted, contacts are absent (never an
 *   empty dataset) and a finding says so.
 */
export class MethodGroupPlanner {
  private readonly items: MethodGroupState[];
  private readonly candidates: string[];
  private contactsChosen: string | undefined;
  private readonly contactsRefused = new Set<string>();
  /** Datasets the key does not return this run (403), or contacts when no name is accepted. */
  private readonly unavailable = new Set<DatasetId>();
  private readonly present = new Set<DatasetId>();
  private readonly base: FetchPlan;
  private requests = 0;

  constructor(plan: FetchPlan, contactsCandidates: readonly string[]) {
    this.base = normalisePlan(
      plan.mode === 'groups' ? plan : { ...plan, mode: 'groups', groups: MODULE_GROUPS.map((g) => [...g]) },
    );
    this.items = this.base.groups.map((datasets) => ({
      datasets: [...datasets],
      status: 'pending',
      requests: 0,
    }));
    const seen = new Set<string>();
    this.candidates = [plan.contactsMethod, ...contactsCandidates].filter((n): n is string => {
      const key = n?.trim().toLowerCase();
      if (!key || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    this.contactsChosen = plan.contactsMethod;
    if (this.candidates.length === 0) this.unavailable.add('contacts');
  }

  /** The next request, or undefined when every group is done. */
  next(): GroupRequest | undefined {
    for (;;) {
      const group = this.items.findIndex((g) => g.status === 'pending');
      if (group < 0) return undefined;
      const item = this.items[group]!;
      const datasets = item.datasets.filter((d) => !this.unavailable.has(d));
      if (datasets.length === 0) {
        item.status = 'done';
        continue;
      }
      return { group, datasets, methods: datasets.flatMap((d) => this.methodsOf(d)) };
    }
  }

  private methodsOf(dataset: DatasetId): Array<{ name: string; dataset: DatasetId }> {
    if (dataset !== 'contacts') return [{ name: DATASETS[dataset].method!, dataset }];
    const names = this.contactsChosen ? [this.contactsChosen] : this.untriedCandidates();
    return names.map((name) => ({ name, dataset }));
  }

  private untriedCandidates(): string[] {
    return this.candidates.filter((n) => !this.contactsRefused.has(n.toLowerCase()));
  }

  /** Records what happened to `request` and decides how the run goes on. */
  record(request: GroupRequest, outcome: GroupOutcome): PlannerDecision {
    const item = this.items[request.group]!;
    item.requests += 1;
    this.requests += 1;
    if (this.requests > MAX_REQUESTS) return this.fail(request.group);
    switch (outcome.kind) {
      case 'fetched':
        return this.fetched(request, item, outcome.present);
      case 'not-allocated':
        return this.notAllocated(request, outcome.echoed);
      case 'failed':
        return this.failed(request, outcome.code, outcome.networkCode);
    }
  }

  private fetched(request: GroupRequest, item: MethodGroupState, present: DatasetId[]): PlannerDecision {
    const got = new Set(present);
    for (const d of request.datasets) if (got.has(d)) this.present.add(d);
    const contactNames = request.methods.filter((m) => m.dataset === 'contacts').map((m) => m.name);
    if (contactNames.length > 0) {
      if (got.has('contacts')) {
        // Several candidates accepted at once: any of them is allocated to the key; keep the first.
        this.contactsChosen ??= contactNames[0];
      } else {
        // Accepted but no Contacts container: not the Contacts (Filtered) method after all.
        contactNames.forEach((n) => this.contactsRefused.add(n.toLowerCase()));
        if (this.contactsChosen && contactNames.includes(this.contactsChosen))
          this.contactsChosen = undefined;
        if (this.untriedCandidates().length > 0) {
          item.datasets = item.datasets.filter((d) => d !== 'contacts');
          this.items.splice(request.group + 1, 0, { datasets: ['contacts'], status: 'pending', requests: 0 });
        } else {
          this.unavailable.add('contacts');
        }
      }
    }
    item.status = 'done';
    return { action: 'continue' };
  }

  private notAllocated(request: GroupRequest, echoed: string[]): PlannerDecision {
    const refused = new Set(echoed.map((n) => n.trim().toLowerCase()));
    const matched = request.methods.filter((m) => refused.has(m.name.toLowerCase()));
    if (matched.length === 0) return this.fail(request.group);
    for (const m of matched) {
      if (m.dataset === 'contacts') {
        this.contactsRefused.add(m.name.toLowerCase());
        if (this.contactsChosen?.toLowerCase() === m.name.toLowerCase()) this.contactsChosen = undefined;
      } else {
        this.unavailable.add(m.dataset);
      }
    }
    if (!this.contactsChosen && this.untriedCandidates().length === 0) this.unavailable.add('contacts');
    return { action: 'continue' };
  }

  private failed(request: GroupRequest, code: string, networkCode: string | undefined): PlannerDecision {
    const halves = needsSmallerRequests(code, networkCode) ? splitGroup(request.datasets) : undefined;
    if (!halves) return this.fail(request.group);
    const item = this.items[request.group]!;
    // Datasets already unavailable this run stay in the plan, with the first half.
    const elsewhere = item.datasets.filter((d) => !request.datasets.includes(d));
    this.items.splice(
      request.group,
      1,
      { datasets: [...halves[0], ...elsewhere], status: 'pending', requests: 0 },
      { datasets: halves[1], status: 'pending', requests: 0 },
    );
    return { action: 'continue' };
  }

  private fail(group: number): PlannerDecision {
    const item = this.items[group]!;
    item.status = 'failed';
    return { action: 'fail', datasets: item.datasets.filter((d) => !this.unavailable.has(d)) };
  }

  /** The plan to keep for the next run: the groups as split so far, the contacts name accepted. */
  plan(): FetchPlan {
    return {
      mode: 'groups',
      groups: this.items.map((g) => [...g.datasets]),
      ...(this.contactsChosen ? { contactsMethod: this.contactsChosen } : {}),
      ...(this.base.switchedBecause !== undefined ? { switchedBecause: this.base.switchedBecause } : {}),
      ...(this.base.switchedAt !== undefined ? { switchedAt: this.base.switchedAt } : {}),
    };
  }

  /** The groups of this run with their status. */
  groups(): MethodGroupState[] {
    return this.items.map((g) => ({ ...g, datasets: [...g.datasets] }));
  }

  progress(): { groupsDone: number; groupsTotal: number } {
    return {
      groupsDone: this.items.filter((g) => g.status === 'done').length,
      groupsTotal: this.items.length,
    };
  }

  /** The assembled snapshot: each dataset present (from one group of this run) or absent. */
  result(): { present: DatasetId[]; absent: DatasetId[]; findings: PlannerFinding[] } {
    const findings: PlannerFinding[] = [];
    if (!this.present.has('contacts') && this.unavailable.has('contacts')) {
      const tried = this.candidates.length > 0 ? this.candidates.join(', ') : 'none configured';
      findings.push({
        code: 'CONNECTOR_CONTACTS_METHOD_UNKNOWN',
        datasetId: 'contacts',
        message:
          `iSAMS accepted none of the method names SchoolCloud knows for Contacts (Filtered) (${tried}): ` +
          'either the Batch API key does not include Contacts (Filtered), or iSAMS names the method differently. ' +
          'Contacts were not fetched in this run and are reported absent, so nothing was removed; the other data was updated.',
      });
    }
    return {
      present: DATASET_IDS.filter((d) => this.present.has(d)),
      absent: DATASET_IDS.filter((d) => !this.present.has(d)),
      findings,
    };
  }
}
