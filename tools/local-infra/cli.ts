/**
 * Local infrastructure for development and tests: a single-node Apache Kafka (KRaft) from Maven
 * Central jars and FerretDB (SQLite backend) built through the Go module proxy.
 *
 *   npm run infra:provision   resolve jars + build FerretDB (cached)
 *   npm run infra:up          provision, start both, wait for real readiness
 *   npm run infra:status      show pids, endpoints and readiness (exit 1 when not ready)
 *   npm run infra:down        stop exactly the processes started (SIGTERM, then SIGKILL)
 *   npm run infra:down -- --wipe   …and delete their data
 */
import { provision } from './provision';
import { down, status, up, wipe } from './processes';
import { endpoints, FERRETDB_VERSION, KAFKA_VERSION, loadSettings } from './settings';

const log = (line: string) => process.stderr.write(`[infra] ${line}\n`);

async function main(): Promise<number> {
  const [command, ...flags] = process.argv.slice(2);
  const settings = loadSettings();
  switch (command) {
    case 'provision':
      await provision(settings, log);
      return 0;
    case 'up': {
      const started = Date.now();
      await provision(settings, log);
      await up(settings, log);
      const e = endpoints(settings);
      log(
        `up in ${((Date.now() - started) / 1000).toFixed(1)} s — Kafka ${KAFKA_VERSION} at ${e.kafkaBrokers}, FerretDB ${FERRETDB_VERSION} at ${e.mongoUrl}`,
      );
      if (flags.includes('--json')) process.stdout.write(JSON.stringify(e) + '\n');
      else
        process.stdout.write(`export KAFKA_BROKERS='${e.kafkaBrokers}'\nexport MONGO_URL='${e.mongoUrl}'\n`);
      return 0;
    }
    case 'down':
      await down(settings, log);
      if (flags.includes('--wipe')) {
        wipe(settings);
        log('data wiped');
      }
      return 0;
    case 'status': {
      const rows = await status(settings);
      for (const r of rows) {
        const state = r.ready ? 'ready' : r.running ? 'running, NOT ready' : 'stopped';
        process.stdout.write(
          `${r.name.padEnd(9)} ${state.padEnd(19)} pid ${String(r.pid ?? '-').padEnd(8)} ${r.endpoint}\n  log: ${r.log}\n`,
        );
      }
      return rows.every((r) => r.ready) ? 0 : 1;
    }
    default:
      process.stderr.write('usage: tsx tools/local-infra/cli.ts provision|up|down [--wipe]|status\n');
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
