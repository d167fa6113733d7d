/** The topics a roster reads and writes, by role. */
export type RosterTopics = Readonly<
  Record<'raw' | 'runs' | 'changes' | 'state' | 'changesDirectory' | 'stateDirectory', string>
>;

/**
 * The roster's topic settings for `topics` — what a test, a bench or a started system gives the
 * roster so it uses their fresh topics (the variable names are the roster's `config.ts`).
 */
export function rosterTopicEnv(topics: RosterTopics): Record<string, string> {
  return {
    RAW_DATASETS_TOPIC: topics.raw,
    ROSTER_CHANGES_TOPIC: topics.changes,
    ROSTER_STATE_TOPIC: topics.state,
    ROSTER_CHANGES_DIRECTORY_TOPIC: topics.changesDirectory,
    ROSTER_STATE_DIRECTORY_TOPIC: topics.stateDirectory,
    SYNC_RUNS_TOPIC: topics.runs,
  };
}
