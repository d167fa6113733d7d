/** The RangeError V8 throws when the stack is exhausted. */
export function stackOverflow(): RangeError {
  const recurse = (n: number): number => recurse(n + 1) + 1;
  try {
    recurse(0);
  } catch (err) {
    return err as RangeError;
  }
  throw new Error('the stack did not overflow');
}
