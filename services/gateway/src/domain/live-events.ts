import type { CallContext } from './principal';

/** Refuses a sync while the school has a live event (throws a 409 naming the events). */
export interface LiveEventCheck {
  assertNoneLive(ctx: CallContext): Promise<void>;
}
