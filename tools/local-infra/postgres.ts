/**
 * The PostgreSQL server behind FerretDB's `postgresql` backend: Debian's `postgresql` package, one
 * private cluster per state dir (initdb UTF8 + locale C, as FerretDB requires), owned by the
 * `postgres` user and started through `setpriv` because PostgreSQL refuses to run as root (these
 * machines and CI run as root). Test-friendly settings, loopback only, no Unix socket.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { POSTGRES_DATABASE, POSTGRES_MAJOR, type InfraSettings } from './settings';
import { INDEX_TWINS_SQL } from './index-twins.sql';
import type { Log } from './provision';

const PG_ROOT = '/usr/lib/postgresql';
const OS_USER = 'postgres';
/** Above FerretDB's pool (settings.ts FERRETDB_POOL_MAX_CONNS) plus psql and a second FerretDB. */
const MAX_CONNECTIONS = 450;

/** `setpriv` prefix that runs a command as the `postgres` user (exec, no fork: the pid stays the command's). */
const AS_POSTGRES = ['--reuid=postgres', '--regid=postgres', '--clear-groups'];

/** The bin directory of the newest installed PostgreSQL major (Debian layout), preferring {@link POSTGRES_MAJOR}. */
export function postgresBinDir(): string | undefined {
  const wanted = resolve(PG_ROOT, String(POSTGRES_MAJOR), 'bin');
  if (existsSync(resolve(wanted, 'postgres'))) return wanted;
  if (!existsSync(PG_ROOT)) return undefined;
  const majors = readdirSync(PG_ROOT)
    .filter((d) => /^\d+$/.test(d) && existsSync(resolve(PG_ROOT, d, 'bin/postgres')))
    .map(Number)
    .sort((a, b) => b - a);
  return majors[0] === undefined ? undefined : resolve(PG_ROOT, String(majors[0]), 'bin');
}

function requireBinDir(): string {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      'PostgreSQL is not installed: run `npm run infra:provision -- --backend postgresql` (apt-get install postgresql)',
    );
  }
  return bin;
}

/** `postgres --version`, e.g. `15.18`. */
export function postgresVersion(): string | undefined {
  const bin = postgresBinDir();
  if (!bin) return undefined;
  const out = spawnSync(resolve(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /(\d+(?:\.\d+)+)/.exec(out)?.[1];
}

function runQuiet(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', (err) => done({ code: -1, out: err.message }));
    child.on('close', (code) => done({ code: code ?? -1, out: out.slice(-4000) }));
  });
}

/**
 * Installs Debian's `postgresql` package when no PostgreSQL server is installed (CI and new machines
 * are fresh; the machines run as root). Skipped when it is already there.
 */
export async function provisionPostgres(log: Log): Promise<void> {
  const existing = postgresBinDir();
  if (existing && existsSync('/usr/bin/setpriv') && userExists()) {
    log(`postgresql ${postgresVersion() ?? '?'}: installed (${existing})`);
    return;
  }
  log('postgresql: installing Debian packages (apt-get update && apt-get install -y postgresql)…');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql', 'util-linux']]) {
    log(`$ apt-get ${args.join(' ')}`);
    const res = await runQuiet('apt-get', args, env);
    if (res.code !== 0) throw new Error(`apt-get ${args.join(' ')} exited with ${res.code}\n${res.out}`);
  }
  if (!postgresBinDir())
    throw new Error(`postgresql: apt-get succeeded but no server under ${PG_ROOT}/*/bin`);
  if (!userExists()) throw new Error(`postgresql: the package did not create the "${OS_USER}" user`);
  log(`postgresql ${postgresVersion() ?? '?'}: installed`);
}

function userExists(): boolean {
  return spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' }).status === 0;
}

function osIds(): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(`no "${OS_USER}" user on this machine`);
  return { uid, gid };
}

/**
 * Creates the cluster once (initdb as the `postgres` user). The state dir gets o+x so the
 * `postgres` user can reach its data directory (mkdtemp makes 0700 dirs); every directory above
 * it must already be traversable, which is checked with the user's own eyes.
 */
export function initPostgres(s: InfraSettings, log: Log): void {
  const bin = requireBinDir();
  const dir = s.postgresDataDir;
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const mode = statSync(parent).mode;
  if ((mode & 0o001) === 0) chmodSync(parent, (mode & 0o777) | 0o711);
  if (existsSync(resolve(dir, 'PG_VERSION'))) return;
  const { uid, gid } = osIds();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  const reach = spawnSync('setpriv', [...AS_POSTGRES, 'test', '-w', dir]);
  if (reach.status !== 0) {
    throw new Error(
      `postgresql: the "${OS_USER}" user cannot reach ${dir}; every directory above it must be traversable (chmod o+x), or set LOCAL_INFRA_STATE_DIR elsewhere`,
    );
  }
  const res = spawnSync(
    'setpriv',
    [
      ...AS_POSTGRES,
      resolve(bin, 'initdb'),
      '--pgdata',
      dir,
      '--encoding=UTF8',
      '--locale=C',
      '--auth=trust',
      `--username=${OS_USER}`,
      '--no-sync',
    ],
    { encoding: 'utf8', cwd: '/' },
  );
  if (res.status !== 0) {
    throw new Error(
      `postgresql: initdb failed (exit ${res.status}):\n${(res.stderr || res.stdout).slice(-3000)}`,
    );
  }
  log(`postgresql: cluster initialised in ${dir} (UTF8, locale C)`);
}

/** The command that starts the postmaster: `setpriv … postgres -D <dir> -c …` (exec, so its pid is the postmaster's). */
export function postgresCommand(s: InfraSettings): { cmd: string; args: string[] } {
  const bin = requireBinDir();
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    port: s.postgresPort,
    unix_socket_directories: '',
    max_connections: MAX_CONNECTIONS,
    // Test data only: durability traded for speed (a crash can lose the cluster; infra:down --wipe).
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '256MB',
    logging_collector: 'off',
    log_min_messages: 'warning',
  };
  return {
    cmd: 'setpriv',
    args: [
      ...AS_POSTGRES,
      resolve(bin, 'postgres'),
      '-D',
      s.postgresDataDir,
      ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ],
  };
}

function psql(s: InfraSettings, database: string, sql: string): Promise<{ code: number; out: string }> {
  const bin = requireBinDir();
  return runQuiet(
    resolve(bin, 'psql'),
    [
      '-X',
      '-A',
      '-t',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      '127.0.0.1',
      '-p',
      String(s.postgresPort),
      '-U',
      OS_USER,
      '-d',
      database,
      '-c',
      sql,
    ],
    { PGCONNECT_TIMEOUT: '2' },
  );
}

/** Ready when a real query answers (`SELECT 1` through psql over TCP), polled until `timeoutMs`. */
export async function postgresReady(s: InfraSettings, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await psql(s, 'postgres', 'SELECT 1');
    if (res.code === 0 && res.out.trim() === '1') return true;
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

/** Creates FerretDB's database once (FerretDB keeps each MongoDB database as a schema inside it). */
export async function ensureFerretDatabase(s: InfraSettings, log: Log): Promise<void> {
  const exists = await psql(
    s,
    'postgres',
    `SELECT 1 FROM pg_database WHERE datname = '${POSTGRES_DATABASE}'`,
  );
  if (exists.code !== 0) throw new Error(`postgresql: could not list databases:\n${exists.out}`);
  if (exists.out.trim() === '1') return;
  const created = await psql(s, 'postgres', `CREATE DATABASE ${POSTGRES_DATABASE}`);
  if (created.code !== 0) throw new Error(`postgresql: CREATE DATABASE failed:\n${created.out}`);
  log(`postgresql: database "${POSTGRES_DATABASE}" created`);
}

/**
 * Installs the index twins (index-twins.sql.ts) in FerretDB's database: every btree index FerretDB
 * creates gets a GIN twin that can answer the `@>` equality FerretDB queries with. Idempotent.
 */
export async function installIndexTwins(s: InfraSettings, log: Log): Promise<void> {
  const res = await psql(s, POSTGRES_DATABASE, INDEX_TWINS_SQL);
  if (res.code !== 0) throw new Error(`postgresql: installing the index twins failed:\n${res.out}`);
  log('postgresql: index twins installed (FerretDB equality filters can use an index)');
}
