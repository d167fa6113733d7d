/**
 * Builds the contracts package other repositories install (`@isams-sync/events`, version
 * CONTRACTS_VERSION) into libs/events/dist/package and packs it with `npm pack`:
 *   - index.js: libs/events/src bundled by esbuild (ESM; the workspace libs it uses — errors, the
 *     dataset ids of isams — inlined; zod stays a dependency);
 *   - types/: the .d.ts files emitted by tsc, workspace imports rewritten to relative paths;
 *   - schemas/ (JSON Schemas, `$id` = the events' `dataschema`), asyncapi/asyncapi.json, README.md.
 * The workspace package itself exports TypeScript sources and refuses a plain `npm pack` (prepack).
 *   npm run pack:contracts [-- --out <dir>]     prints the tarball's path
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { ASYNCAPI_FILE, CONTRACTS_VERSION, RELEASED_DIR } from '@isams-sync/events';

const root = resolve(import.meta.dirname, '../..');
const lib = join(root, 'libs/events');
const out = join(lib, 'dist/package');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const packDestination = resolve(values.out ?? join(lib, 'dist'));

const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const zodVersion = rootPackage.dependencies.zod!;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 1. JavaScript: one ESM bundle, only zod external.
await build({
  entryPoints: [join(lib, 'src/index.ts')],
  outfile: join(out, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['zod'],
  // The events library uses only the dataset ids and the id bound of @isams-sync/isams (and a type): take that module
  // alone, not the whole library (its HTTP client and parser have no place in a contracts package).
  // An import the module lacks fails the build.
  alias: { '@isams-sync/isams': join(root, 'libs/isams/src/datasets.ts') },
  legalComments: 'none',
  logLevel: 'warning',
});

// 2. Declarations: tsc over the library (and the workspace files it imports), then workspace
// specifiers rewritten to the emitted files so the package needs nothing of the monorepo.
// @isams-sync/isams contributes only DATASET_IDS, ID_MAX_CHARS and the RawElement type: a subset module stands in.
const isamsSubset = join(lib, 'dist/isams-subset.ts');
writeFileSync(
  isamsSubset,
  `export { DATASET_IDS, ID_MAX_CHARS } from '../../isams/src/datasets';\nexport type { RawElement } from '../../isams/src/raw-element';\n`,
);
/** Workspace libs the declarations refer to → the source tsc compiles (and emits) in their place. */
const WORKSPACE_SOURCES: Record<string, string> = {
  '@isams-sync/errors': join(root, 'libs/errors/src/index.ts'),
  '@isams-sync/isams': isamsSubset,
};
const tsconfig = join(out, 'tsconfig.types.json');
writeFileSync(
  tsconfig,
  JSON.stringify({
    extends: relative(out, join(root, 'tsconfig.base.json')),
    compilerOptions: {
      declaration: true,
      emitDeclarationOnly: true,
      noEmit: false,
      rootDir: relative(out, root),
      outDir: 'types',
      skipLibCheck: true,
      // Workspace libs as sources, so their declarations are emitted with the package's own.
      paths: Object.fromEntries(Object.entries(WORKSPACE_SOURCES).map(([k, v]) => [k, [relative(out, v)]])),
    },
    files: [relative(out, join(lib, 'src/index.ts'))],
  }),
);
execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', tsconfig], { cwd: out, stdio: 'inherit' });
rmSync(tsconfig);
rmSync(isamsSubset);
const typesDir = join(out, 'types');
const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
/** A relative specifier with the `.js` extension Node's ESM resolution (and `nodenext`) needs. */
function withExtension(fromFile: string, spec: string): string {
  if (spec.endsWith('.js')) return spec;
  const target = resolve(dirname(fromFile), spec);
  if (existsSync(`${target}.d.ts`)) return `${spec}.js`;
  if (existsSync(join(target, 'index.d.ts'))) return `${spec}/index.js`;
  throw new Error(`pack-contracts: ${fromFile} imports ${spec}, which was not emitted`);
}
for (const file of walk(typesDir).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8').replace(
    /(from |import\()(['"])(@isams-sync\/[a-z-]+|\.{1,2}(?:\/[^'"]*)?)\2/g,
    (_m, lead: string, q: string, spec: string) => {
      let rel = spec;
      if (spec.startsWith('@isams-sync/')) {
        const source = WORKSPACE_SOURCES[spec];
        if (source === undefined)
          throw new Error(`pack-contracts: ${file} imports ${spec}: add it to WORKSPACE_SOURCES`);
        rel = relative(dirname(file), join(typesDir, relative(root, source).replace(/\.ts$/, '')));
        if (!rel.startsWith('.')) rel = `./${rel}`;
      }
      return `${lead}${q}${withExtension(file, rel)}${q}`;
    },
  );
  writeFileSync(file, text);
}
const typesEntry = './types/libs/events/src/index.d.ts';

// 3. Schemas (the released snapshot stays in the repository), AsyncAPI, README.
cpSync(join(lib, 'schemas'), join(out, 'schemas'), {
  recursive: true,
  filter: (src) => !src.startsWith(join(lib, 'schemas', RELEASED_DIR)),
});
cpSync(join(lib, ASYNCAPI_FILE), join(out, ASYNCAPI_FILE));
cpSync(join(lib, 'README.md'), join(out, 'README.md'));

writeFileSync(
  join(out, 'package.json'),
  `${JSON.stringify(
    {
      name: '@isams-sync/events',
      version: CONTRACTS_VERSION,
      description:
        'Event contracts of isams-sync: CloudEvents types, zod schemas, JSON Schemas and the AsyncAPI document of the topics it publishes',
      type: 'module',
      main: './index.js',
      types: typesEntry,
      exports: {
        '.': { types: typesEntry, import: './index.js', default: './index.js' },
        './schemas/*': './schemas/*',
        './asyncapi.json': `./${ASYNCAPI_FILE}`,
        './package.json': './package.json',
      },
      files: ['index.js', 'types', 'schemas', 'asyncapi', 'README.md'],
      sideEffects: false,
      engines: { node: '>=20' },
      dependencies: { zod: zodVersion },
    },
    null,
    2,
  )}\n`,
);

// 4. Pack.
mkdirSync(packDestination, { recursive: true });
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', packDestination], {
    cwd: out,
    encoding: 'utf8',
  }),
) as Array<{ filename: string; size: number; entryCount: number }>;
const tarball = join(packDestination, packed[0]!.filename);
console.error(
  `pack-contracts: ${packed[0]!.entryCount} files, ${(packed[0]!.size / 1024).toFixed(0)} KiB (version ${CONTRACTS_VERSION})`,
);
console.log(tarball);
