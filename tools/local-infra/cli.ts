/**
 * Local infrastructure for development and tests: a single-node Apache Kafka (KRaft) from Maven
 * Central jars and FerretDB built through the Go module proxy, on its SQLite backend or on its
 * PostgreSQL backend (Debian's PostgreSQL 15, a private cluster in the state dir).
 *
 *   npm run infra:provision   resolve jars + build FerretDB (+ apt-get install postgresql) (cached)
 *   npm run infra:up          provision, start everything, wait for real readiness
 *   npm run infra:status      show pids, endpoints and readiness (exit 1 when not ready)
 *   npm run infra:down        stop exactly the processes started (FerretDB before PostgreSQL)
 *   npm run infra:down -- --wipe   …and delete their data
 *   tsx tools/local-infra/cli.ts settings   the resolved settings as JSON (for the test setup)
 *
 * Flags: `--backend sqlite|postgresql` (else LOCAL_MONGO_BACKEND, else the default in settings.ts),
 * `--json` (up: print the endpoints as JSON), `--no-kafka` (provision/up: the database only).
 */
import { provision } from './provision';
import { down, status, up, wipe } from './processes';
import { postgresVersion } from './postgres';
import { endpoints, FERRETDB_VERSION, KAFKA_VERSION, loadSettings } from './settings';

const log = (line: string) => process.stderr.write(`[infra] ${line}\n`);

function flagValue(flags: string[], name: string): string | undefined {
  const i = flags.findIndex((f) => f === name || f.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const flag = flags[i]!;
  if (flag.includes('=')) return flag.slice(name.length + 1);
  const value = flags[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

async function main(): Promise<number> {
  const [command, ...flags] = process.argv.slice(2);
  const settings = loadSettings(flagValue(flags, '--backend'));
  const withKafka = !flags.includes('--no-kafka');
  switch (command) {
    case 'provision':
      await provision(settings, log, { withKafka });
      return 0;
    case 'up': {
      const started = Date.now();
      await provision(settings, log, { withKafka });
      await up(settings, log, { withKafka });
      const e = endpoints(settings);
      const backend =
        settings.mongoBackend === 'postgresql'
          ? `PostgreSQL ${postgresVersion() ?? '?'} at 127.0.0.1:${settings.postgresPort}`
          : 'SQLite';
      log(
        `up in ${((Date.now() - started) / 1000).toFixed(1)} s — ${withKafka ? `Kafka ${KAFKA_VERSION} at ${e.kafkaBrokers}, ` : ''}FerretDB ${FERRETDB_VERSION} at ${e.mongoUrl} on ${backend}`,
      );
      if (flags.includes('--json')) {
        process.stdout.write(
          JSON.stringify(withKafka ? e : { mongoUrl: e.mongoUrl, mongoBackend: e.mongoBackend }) + '\n',
        );
      } else {
        if (withKafka) process.stdout.write(`export KAFKA_BROKERS='${e.kafkaBrokers}'\n`);
        process.stdout.write(`export MONGO_URL='${e.mongoUrl}'\n`);
      }
      return 0;
    }
    case 'down':
      await down(settings, log);
      if (flags.includes('--wipe')) {
        wipe(settings);
        log('data wiped');
      }
      return 0;
    case 'settings':
      process.stdout.write(JSON.stringify(settings) + '\n');
      return 0;
    case 'status': {
      const { backend, servers } = await status(settings, { withKafka });
      process.stdout.write(`backend   ${backend}\n`);
      for (const r of servers) {
        const state = r.ready ? 'ready' : r.running ? 'running, NOT ready' : 'stopped';
        process.stdout.write(
          `${r.name.padEnd(9)} ${state.padEnd(19)} pid ${String(r.pid ?? '-').padEnd(8)} ${r.endpoint}\n  log: ${r.log}\n`,
        );
      }
      return servers.every((r) => r.ready) ? 0 : 1;
    }
    default:
      process.stderr.write(
        'usage: tsx tools/local-infra/cli.ts provision|up|down [--wipe]|status|settings [--backend sqlite|postgresql] [--json] [--no-kafka]\n',
      );
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
