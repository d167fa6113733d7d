import { MongoErrors } from '@isams-sync/mongo';
import type { Fence } from '@isams-sync/mongo';

/** A school's lease whose current token the test moves (`state.current`); `fenceOf(token)` checks against it. */
export function testLease(
  t: string,
  current: number,
): { state: { current: number }; fenceOf: (token: number) => Fence } {
  const state = { current };
  const fenceOf = (token: number): Fence => ({
    key: `school:${t}`,
    token,
    check: async () => {
      if (token !== state.current) throw MongoErrors.MONGO_FENCED({ key: `school:${t}`, token });
    },
  });
  return { state, fenceOf };
}
