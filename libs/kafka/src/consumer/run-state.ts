/** What the parts of one consumer runner share about where it stands. */
export class RunState {
  /** `stop()` has begun: nothing new starts, failures are left for redelivery. */
  stopping = false;
  /** The member has joined its group once (a crash before that fails `ready`). */
  joined = false;
  /** Paused by its user: a back-off that ends does not resume the partition. */
  userPaused = false;
  /** Partitions assigned at the last join, per topic. */
  assigned: Record<string, number[]> = {};
}
