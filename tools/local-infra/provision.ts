import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, readFileSync, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { provisionPostgres } from './postgres';
import { KAFKA_VERSION, type InfraSettings } from './settings';

export type Log = (line: string) => void;

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; log: Log },
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    opts.log(`$ ${cmd} ${args.join(' ')}`);
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new Error(`${cmd} could not start: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${tail}`));
    });
  });
}

function stamp(...files: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/** Resolves the Kafka broker's runtime jars from Maven Central into the cache (once per pom.xml content). */
export async function provisionKafka(s: InfraSettings, log: Log): Promise<void> {
  const pom = resolve(s.repoRoot, 'tools/local-infra/kafka/pom.xml');
  const marker = resolve(s.kafkaLibsDir, '.provisioned');
  const want = stamp(pom);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) {
    log(`kafka ${KAFKA_VERSION}: jars cached (${readdirSync(s.kafkaLibsDir).length - 1} files)`);
    return;
  }
  log(`kafka ${KAFKA_VERSION}: resolving jars from Maven Central…`);
  const tmp = `${s.kafkaLibsDir}.tmp`;
  await run(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pom,
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${tmp}`,
    ],
    { cwd: s.repoRoot, log },
  );
  writeFileSync(resolve(tmp, '.provisioned'), want);
  mkdirSync(dirname(s.kafkaLibsDir), { recursive: true });
  if (existsSync(s.kafkaLibsDir)) await run('rm', ['-rf', s.kafkaLibsDir], { cwd: s.repoRoot, log });
  renameSync(tmp, s.kafkaLibsDir);
  log(`kafka ${KAFKA_VERSION}: ${readdirSync(s.kafkaLibsDir).length - 1} jars ready`);
}

/** Builds the FerretDB wrapper (tools/local-infra/ferretdb) through the Go module proxy (once per source). */
export async function provisionFerretDb(s: InfraSettings, log: Log): Promise<void> {
  const src = resolve(s.repoRoot, 'tools/local-infra/ferretdb');
  const marker = `${s.ferretBinary}.stamp`;
  const want = stamp(resolve(src, 'go.mod'), resolve(src, 'go.sum'), resolve(src, 'main.go'));
  if (existsSync(s.ferretBinary) && existsSync(marker) && readFileSync(marker, 'utf8') === want) {
    log('ferretdb: binary cached');
    return;
  }
  log(
    'ferretdb: building through the Go module proxy (first build compiles a pure-Go SQLite: a few minutes)…',
  );
  mkdirSync(dirname(s.ferretBinary), { recursive: true });
  await run('go', ['build', '-trimpath', '-o', s.ferretBinary, '.'], {
    cwd: src,
    env: { CGO_ENABLED: '0' },
    log,
  });
  writeFileSync(marker, want);
  log('ferretdb: built');
}

/**
 * Provisions what `up` will start: Kafka's jars (unless `withKafka` is false), the FerretDB binary,
 * and for the `postgresql` backend Debian's PostgreSQL server.
 */
export async function provision(
  s: InfraSettings,
  log: Log,
  opts: { withKafka?: boolean } = {},
): Promise<void> {
  await Promise.all([
    opts.withKafka === false ? Promise.resolve() : provisionKafka(s, log),
    provisionFerretDb(s, log),
    s.mongoBackend === 'postgresql' ? provisionPostgres(log) : Promise.resolve(),
  ]);
}
