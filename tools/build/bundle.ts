/**
 * Bundles a service (or the topic-creation script) into one ESM file for its container image:
 *
 *   npx tsx tools/build/bundle.ts <target>... [--out-dir dist]
 *
 * `<service>` → `services/<service>/src/main.ts` → `dist/<service>/main.js`;
 * `create-topics` → `tools/build/create-topics-main.ts` → `dist/create-topics/main.js`;
 * `dlq` → `libs/kafka/src/cli/dlq.ts` → `dist/dlq/main.js` (the dead-letter list/replay command).
 * A service's worker thread module (`*.worker.ts` anywhere in its `src/`) is bundled beside
 * `main.js` under its own name (`parse.worker.ts` → `parse.worker.js`): the code that starts it
 * resolves `./<name>.worker.js` against `import.meta.url`, which is `main.js` in the bundle.
 * Workspace packages are TypeScript sources (their exports point at `src/index.ts`); esbuild follows
 * them. The mongodb driver's optional native/cloud dependencies stay external (the driver loads them
 * lazily inside try/catch). CommonJS packages that read files next to themselves through `__dirname`
 * (grpc-health-check, @grpc/reflection, @grpc/grpc-js load `.proto` files) get a `__dirname` that
 * points into `<out>/node_modules/<pkg>/…`, where those packages' asset folders are copied.
 */
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Optional dependencies of the mongodb driver (and kafkajs/pino extras) that are never bundled. */
export const EXTERNAL_MODULES: readonly string[] = [
  'kerberos',
  'snappy',
  '@mongodb-js/zstd',
  'mongodb-client-encryption',
  'gcp-metadata',
  'socks',
  'aws4',
  '@aws-sdk/credential-providers',
];

/** Asset folders (relative to the package root) copied next to the bundle for `__dirname` readers. */
export const PACKAGE_ASSETS: Readonly<Record<string, readonly string[]>> = {
  'grpc-health-check': ['proto'],
  '@grpc/reflection': ['build/proto'],
  '@grpc/grpc-js': ['proto'],
};

/** Entries that are not services. */
const TOOL_ENTRIES: Readonly<Record<string, string>> = {
  'create-topics': 'tools/build/create-topics-main.ts',
  dlq: 'libs/kafka/src/cli/dlq.ts',
};

/** Thrown for a target that has no entry file (e.g. a service not written yet). */
export class BundleTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleTargetError';
  }
}

/** Entry file (absolute) of a target name, or a {@link BundleTargetError}. */
export function entryOf(target: string, root = repoRoot): string {
  if (!/^[a-z][a-z0-9-]*$/.test(target))
    throw new BundleTargetError(`bundle: invalid target name "${target}"`);
  const rel = TOOL_ENTRIES[target] ?? join('services', target, 'src', 'main.ts');
  const entry = join(root, rel);
  if (!existsSync(entry)) {
    const servicesDir = join(root, 'services');
    const services = existsSync(servicesDir)
      ? readdirSync(servicesDir)
          .filter((s) => existsSync(join(servicesDir, s, 'src', 'main.ts')))
          .sort()
      : [];
    throw new BundleTargetError(
      `bundle: no entry for "${target}": ${rel} does not exist. ` +
        `Bundleable targets: ${[...services, ...Object.keys(TOOL_ENTRIES)].join(', ') || '(none)'}.`,
    );
  }
  return entry;
}

/** The package root (`…/node_modules/<name>` or `…/node_modules/@scope/<name>`) and name of a file. */
function packageOf(file: string): { root: string; name: string } | undefined {
  const parts = file.split(sep);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length) return undefined;
  const scoped = parts[i + 1]!.startsWith('@');
  const nameParts = parts.slice(i + 1, i + (scoped ? 3 : 2));
  return { root: parts.slice(0, i + 1 + nameParts.length).join(sep), name: nameParts.join('/') };
}

/** Rewrites `__dirname`/`__filename` in CommonJS node_modules files to paths inside the output folder. */
function relocateDirnamePlugin(): Plugin {
  return {
    name: 'relocate-dirname',
    setup(b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!/\b__(dirname|filename)\b/.test(source)) return undefined;
        const pkg = packageOf(args.path);
        if (!pkg) return undefined;
        const relDir = relative(pkg.root, dirname(args.path)).split(sep).join('/');
        const relFile = relative(pkg.root, args.path).split(sep).join('/');
        const dir = JSON.stringify(['node_modules', pkg.name, relDir].filter(Boolean).join('/'));
        const file = JSON.stringify(['node_modules', pkg.name, relFile].join('/'));
        const contents = source
          .replace(/\b__dirname\b/g, `__bundleJoin(__bundleDir, ${dir})`)
          .replace(/\b__filename\b/g, `__bundleJoin(__bundleDir, ${file})`);
        return { contents, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

// Defines `require` (for CommonJS dependencies calling require() on Node built-ins) and the bundle's
// own folder for the relocated `__dirname`s.
const BANNER = [
  "import { createRequire as __bundleCreateRequire } from 'node:module';",
  "import { fileURLToPath as __bundleFileURLToPath } from 'node:url';",
  "import { dirname as __bundleDirname, join as __bundleJoin } from 'node:path';",
  'const require = __bundleCreateRequire(import.meta.url);',
  'const __bundleDir = __bundleDirname(__bundleFileURLToPath(import.meta.url));',
].join('\n');

/** Options of {@link bundle}. */
export interface BundleOptions {
  /** Target name: a service folder under `services/`, `create-topics` or `dlq`. */
  target: string;
  /** Output root (default `<repo>/dist`); the bundle goes to `<outRoot>/<target>/main.js`. */
  outRoot?: string;
  /** Explicit entry file (tests); default from {@link entryOf}. */
  entry?: string;
  /** Minify (default true). */
  minify?: boolean;
}

/** What {@link bundle} wrote. */
export interface BundleResult {
  outFile: string;
  bytes: number;
  copiedAssets: string[];
  /** The worker threads' modules written beside `outFile`. */
  workerFiles: string[];
}

/** The worker threads' modules (`*.worker.ts`) in the folder of `entry` and below, sorted. */
export function workerEntriesOf(entry: string): string[] {
  const dir = dirname(entry);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.worker.ts') && !f.split(sep).includes('node_modules'))
    .map((f) => join(dir, f))
    .sort();
}

/** Bundles one target. @throws BundleTargetError when the target has no entry file. */
export async function bundle(options: BundleOptions): Promise<BundleResult> {
  const entry = options.entry ?? entryOf(options.target);
  const outDir = join(options.outRoot ?? join(repoRoot, 'dist'), options.target);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, 'main.js');
  const buildOne = (entryPoint: string, outfile: string) =>
    build({
      entryPoints: [entryPoint],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node24',
      minify: options.minify ?? true,
      keepNames: true,
      sourcemap: 'linked',
      legalComments: 'none',
      external: [...EXTERNAL_MODULES],
      banner: { js: BANNER },
      plugins: [relocateDirnamePlugin()],
      metafile: true,
      logLevel: 'warning',
      absWorkingDir: repoRoot,
    });
  const result = await buildOne(entry, outFile);
  const workerFiles: string[] = [];
  // A tool's folder is shared with other tools and their test fixtures: only services (and a test's
  // own entry) bring worker modules.
  const workers = options.entry === undefined && TOOL_ENTRIES[options.target] ? [] : workerEntriesOf(entry);
  for (const worker of workers) {
    const file = join(outDir, `${basename(worker, '.ts')}.js`);
    await buildOne(worker, file);
    workerFiles.push(file);
  }
  const copiedAssets: string[] = [];
  const bundledPackages = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const pkg = packageOf(resolve(repoRoot, input));
    if (pkg) bundledPackages.add(`${pkg.name}\0${pkg.root}`);
  }
  for (const key of bundledPackages) {
    const [name, root] = key.split('\0') as [string, string];
    for (const asset of PACKAGE_ASSETS[name] ?? []) {
      const from = join(root, asset);
      if (!existsSync(from)) continue;
      const to = join(outDir, 'node_modules', name, asset);
      cpSync(from, to, { recursive: true });
      copiedAssets.push(join('node_modules', name, asset));
    }
  }
  // A service's static web files (the gateway's Data Dashboard) travel with its bundle as `web/`.
  const web = join(dirname(entry), 'web');
  if (existsSync(web)) {
    cpSync(web, join(outDir, 'web'), { recursive: true });
    copiedAssets.push('web');
  }
  return {
    outFile,
    bytes: result.metafile.outputs[relative(repoRoot, outFile)]?.bytes ?? 0,
    copiedAssets,
    workerFiles,
  };
}

async function main(argv: string[]): Promise<number> {
  const targets: string[] = [];
  let outRoot: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out-dir') outRoot = resolve(argv[++i] ?? 'dist');
    else targets.push(argv[i]!);
  }
  if (targets.length === 0) {
    console.error('usage: tsx tools/build/bundle.ts <service|create-topics|dlq>... [--out-dir dist]');
    return 2;
  }
  for (const target of targets) {
    try {
      const r = await bundle({ target, outRoot });
      console.log(
        `bundle: ${target} → ${relative(process.cwd(), r.outFile)} (${Math.round(r.bytes / 1024)} KiB` +
          `${r.workerFiles.length ? `, workers: ${r.workerFiles.map((f) => basename(f)).join(', ')}` : ''}` +
          `${r.copiedAssets.length ? `, assets: ${r.copiedAssets.join(', ')}` : ''})`,
      );
    } catch (err) {
      console.error(err instanceof BundleTargetError ? err.message : err);
      return 1;
    }
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
