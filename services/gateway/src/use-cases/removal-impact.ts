import type { BookingsGateway } from './ports';
import type { RosterGateway } from './ports';
import { GatewayErrors } from '../domain/gateway-errors';
import type { BookableEvent, RemovalImpact } from '../domain/models/bookings.models';
import type { Change } from '../domain/models/roster.models';
import type { CallContext } from '../domain/principal';
import type { LiveEventCheck } from '../domain/live-events';
import { removedPeople } from '../domain/removal-people';

const PAGE = 200;
/** Upper bound on records read for one preview (a held batch is at most a whole school). */
const MAX_RECORDS = 20_000;

/** Reads every page (up to {@link MAX_RECORDS}) of a list that `fetchPage` reads one page of. */
async function collect(
  fetchPage: (paging: {
    pageSize: number;
    pageToken?: string;
  }) => Promise<{ items: Change[]; next: string | null }>,
): Promise<Change[]> {
  const all: Change[] = [];
  let token: string | undefined;
  do {
    const { items, next } = await fetchPage({
      pageSize: PAGE,
      ...(token === undefined ? {} : { pageToken: token }),
    });
    all.push(...items);
    token = next ?? undefined;
  } while (token !== undefined && all.length < MAX_RECORDS);
  return all;
}

/** The booking impact of approving a held batch: its removed people, previewed by the bookings service. */
export async function heldBatchImpact(
  roster: RosterGateway,
  bookings: BookingsGateway,
  ctx: CallContext,
  batchId: string,
): Promise<RemovalImpact> {
  const records = await collect(async (paging) => {
    const r = await roster.getHeldBatch(ctx, { batchId, ...paging });
    return { items: r.records, next: r.page.nextPageToken };
  });
  return previewFor(bookings, ctx, records, { heldBatchId: batchId });
}

/**
 * The booking impact of a dry run: the removals a real run would apply now — not those it would
 * hold for an admin (or that an earlier discard keeps); live events' bookings would be held, not
 * cancelled.
 */
export async function dryRunImpact(
  roster: RosterGateway,
  bookings: BookingsGateway,
  ctx: CallContext,
  syncRunId: string,
): Promise<RemovalImpact> {
  const records = await collect(async (paging) => {
    const r = await roster.listRunChanges(ctx, {
      syncRunId,
      change: 'removed',
      disposition: 'apply',
      ...paging,
    });
    return { items: r.changes, next: r.page.nextPageToken };
  });
  return previewFor(bookings, ctx, records, { dryRunId: syncRunId });
}

/** The bookings service's preview of removing the people `records` remove (of a held batch or a dry run). */
async function previewFor(
  bookings: BookingsGateway,
  ctx: CallContext,
  records: Change[],
  of: { heldBatchId: string } | { dryRunId: string },
): Promise<RemovalImpact> {
  const people = removedPeople(records);
  const impact = await bookings.previewRemovalImpact(ctx, { removals: people, ...of });
  return { ...impact, peopleConsidered: people.length };
}

/** The school's live evenings: marked live, or open today in the school's time zone (the bookings service decides). */
export async function liveEvents(bookings: BookingsGateway, ctx: CallContext): Promise<BookableEvent[]> {
  return (await bookings.listEvenings(ctx)).evenings.filter((e) => e.state === 'live').map((e) => e.event);
}

/** A {@link LiveEventCheck} backed by the bookings service. */
export function createLiveEventCheck(bookings: BookingsGateway): LiveEventCheck {
  return {
    async assertNoneLive(ctx) {
      const live = await liveEvents(bookings, ctx);
      if (live.length > 0) {
        throw GatewayErrors.GATEWAY_LIVE_EVENT_CONFIRMATION_REQUIRED({
          events: live.map((e) => ({ id: e.id, title: e.title })),
        });
      }
    },
  };
}
