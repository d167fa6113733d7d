import { parseArgs } from 'node:util';

export const DEMO_SIZES = ['small', 'medium', 'large'] as const;

/** The demo's command-line options. */
export interface DemoOptions {
  size: (typeof DEMO_SIZES)[number];
  /** Exit 0 after the summary instead of leaving the dashboard running (CI). */
  once: boolean;
  help: boolean;
}

export const DEMO_USAGE = `Usage: npm run demo -- [--size small|medium|large] [--once] [--help]

  --size <size>  the simulated school: small, medium (default) or large
  --once         exit after the summary instead of leaving the Data Dashboard running
  --help         show this text`;

/** A command line the demo does not understand; the message says what and is followed by the usage. */
export class DemoUsageError extends Error {
  override name = 'DemoUsageError';
}

/** Parses `npm run demo -- …` strictly (node:util parseArgs): unknown options and stray words are refused. */
export function parseDemoArgs(args: readonly string[]): DemoOptions {
  let values: { size?: string; once?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        size: { type: 'string' },
        once: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // parseArgs' own message names the offending option ("Unknown option '--sise'…").
    throw new DemoUsageError(err instanceof Error ? err.message : String(err));
  }
  const size = values.size ?? 'medium';
  if (!(DEMO_SIZES as readonly string[]).includes(size))
    throw new DemoUsageError(`--size must be one of ${DEMO_SIZES.join(', ')} (got "${size}")`);
  return { size: size as DemoOptions['size'], once: values.once ?? false, help: values.help ?? false };
}
