import { AppError } from '@isams-sync/errors';

/** One invalid or missing environment variable. */
export interface ConfigProblem {
  /** Variable name (or a dotted path for nested schemas; `(config)` for whole-object rules). */
  variable: string;
  /** Why it was rejected, e.g. `required` or `expected an integer 1–65535, got "abc"`. */
  reason: string;
}

/**
 * Thrown by `loadConfig` when the environment does not satisfy the schema. Code `CONFIG_INVALID`;
 * the message lists every problem, one per line; secret values are never included.
 */
export class ConfigError extends AppError {
  /** Every problem found, in schema order. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.variable}: ${p.reason}`);
    super({
      code: 'CONFIG_INVALID',
      kind: 'invalid_argument',
      message: `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      details: { problems: problems.map((p) => ({ ...p })) },
    });
    this.problems = problems;
  }
}
