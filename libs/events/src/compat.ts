import { parseSemver } from './schema-uri';

/**
 * The compatibility check of the published contracts (`npm run check:contracts`, in CI): compares
 * the generated JSON Schemas with the released snapshot (`schemas/released/`) and says what breaks a
 * subscriber. Pure; the CLI (tools/codegen/check-contracts.ts) reads and writes the files.
 *
 * Rules (libs/events/README.md › Versions):
 * - every schema carries `x-schema-version` (semver); a changed schema needs a higher version —
 *   minor for an additive change, major for a breaking one (for an event type the major is its
 *   `.v<N>`, so a breaking change is a new type);
 * - breaking: a property removed, a property no longer required, a property newly required, a type
 *   narrowed, an enum value or a `oneOf` branch removed, a `const` changed, a constraint (`pattern`,
 *   `format`, lengths, bounds) added or tightened, an open object closed;
 * - the package version follows: a removed schema or a schema major → package major; a new schema or
 *   a schema minor → package minor (at least).
 */

type Json = Record<string, unknown>;

/** The released snapshot: its package version and its schema files by relative path. */
export interface ContractsRelease {
  packageVersion: string;
  files: Readonly<Record<string, Json>>;
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

function resolve(node: Json, root: Json): Json {
  const ref = node.$ref;
  if (ref === '#') return root;
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return node;
  const target = (root.$defs as Json | undefined)?.[ref.slice('#/$defs/'.length)];
  return isObject(target) ? resolve(target, root) : node;
}

const isOpen = (s: Json): boolean => s.additionalProperties === undefined || s.additionalProperties !== false;

/** Key of a `oneOf`/`anyOf` branch: its discriminator constant, else its position. */
function branchKey(branch: Json, root: Json, index: number): string {
  const b = resolve(branch, root);
  const props = isObject(b.properties) ? b.properties : {};
  for (const [name, p] of Object.entries(props))
    if (isObject(p) && p.const !== undefined) return `${name}=${JSON.stringify(p.const)}`;
  return `#${index}`;
}

const LOWER_BOUNDS = ['minLength', 'minItems', 'minimum', 'exclusiveMinimum', 'minProperties'] as const;
const UPPER_BOUNDS = ['maxLength', 'maxItems', 'maximum', 'exclusiveMaximum', 'maxProperties'] as const;

/**
 * What in `current` breaks a consumer written against `released` (paths like `data.after.forename`).
 * Empty when `current` accepts everything `released` promised and promises everything it did.
 */
export function breakingChanges(released: Json, current: Json): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (rNode: Json, cNode: Json, path: string): void => {
    const r = resolve(rNode, released);
    const c = resolve(cNode, current);
    // Recursive schemas (a raw element's children) meet the same pair again: compare it once.
    const key = `${JSON.stringify(r)}|${JSON.stringify(c)}`;
    if (seen.has(key)) return;
    seen.add(key);
    const at = path === '' ? '(root)' : path;

    const rTypes = asArray(r.type);
    const cTypes = asArray(c.type);
    if (cTypes.length > 0) {
      const lost = rTypes.length === 0 ? ['any'] : rTypes.filter((t) => !cTypes.includes(t));
      if (lost.length > 0) out.push(`${at}: type narrowed (no longer ${lost.join(', ')})`);
    }
    if (r.const !== undefined || c.const !== undefined) {
      if (JSON.stringify(r.const) !== JSON.stringify(c.const)) out.push(`${at}: const changed`);
    }
    const cEnum = c.enum;
    if (Array.isArray(cEnum)) {
      const removed =
        r.enum === undefined
          ? ['(any value)']
          : asArray(r.enum).filter(
              (v) => !cEnum.some((x: unknown) => JSON.stringify(x) === JSON.stringify(v)),
            );
      if (removed.length > 0) out.push(`${at}: enum value removed (${removed.map(String).join(', ')})`);
    }
    for (const k of ['pattern', 'format'] as const) {
      if (c[k] !== undefined && c[k] !== r[k]) out.push(`${at}: ${k} added or changed`);
    }
    for (const k of LOWER_BOUNDS) {
      if (typeof c[k] === 'number' && !(typeof r[k] === 'number' && c[k] <= r[k]))
        out.push(`${at}: ${k} tightened`);
    }
    for (const k of UPPER_BOUNDS) {
      if (typeof c[k] === 'number' && !(typeof r[k] === 'number' && c[k] >= r[k]))
        out.push(`${at}: ${k} tightened`);
    }

    const rProps = isObject(r.properties) ? r.properties : {};
    const cProps = isObject(c.properties) ? c.properties : {};
    const rRequired = asArray(r.required);
    const cRequired = asArray(c.required);
    for (const [name, rProp] of Object.entries(rProps)) {
      const sub = path === '' ? name : `${path}.${name}`;
      const cProp = cProps[name];
      if (!isObject(cProp)) {
        out.push(`${sub}: property removed`);
        continue;
      }
      if (rRequired.includes(name) && !cRequired.includes(name)) out.push(`${sub}: no longer required`);
      if (isObject(rProp)) walk(rProp, cProp, sub);
    }
    for (const name of cRequired) {
      if (!rRequired.includes(name)) out.push(`${path === '' ? name : `${path}.${name}`}: newly required`);
    }
    if (isOpen(r) && !isOpen(c) && (r.type === 'object' || c.type === 'object'))
      out.push(`${at}: additional properties no longer allowed`);
    if (isObject(r.additionalProperties) && isObject(c.additionalProperties))
      walk(r.additionalProperties, c.additionalProperties, `${path}[*]`);
    if (isObject(r.items) && isObject(c.items)) walk(r.items, c.items, `${path}[]`);

    for (const k of ['oneOf', 'anyOf'] as const) {
      const rBranches = asArray(r[k]).filter(isObject);
      const cBranches = asArray(c[k]).filter(isObject);
      if (rBranches.length === 0) continue;
      const cByKey = new Map(cBranches.map((b, i) => [branchKey(b, current, i), b]));
      rBranches.forEach((rb, i) => {
        const bk = branchKey(rb, released, i);
        const cb = cByKey.get(bk);
        if (cb === undefined) out.push(`${at}: ${k} branch ${bk} removed`);
        else walk(rb, cb, `${path}<${bk}>`);
      });
    }
  };
  walk(released, current, '');
  return out;
}

/** The version a schema file declares (`x-schema-version`). */
export const schemaVersionOf = (schema: Json): string | undefined =>
  typeof schema['x-schema-version'] === 'string' ? schema['x-schema-version'] : undefined;

const withoutIdentity = (s: Json): string => {
  const { $id: _id, 'x-schema-version': _v, ...rest } = s;
  return JSON.stringify(rest);
};

const cmp = (a: readonly number[], b: readonly number[]): number =>
  a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

/**
 * Compares the current contracts with the released snapshot; returns the problems (empty = OK).
 * `current.files` are the generated schema files (relative path → schema).
 */
export function checkContracts(released: ContractsRelease, current: ContractsRelease): string[] {
  const problems: string[] = [];
  const rPkg = parseSemver(released.packageVersion);
  const cPkg = parseSemver(current.packageVersion);
  if (rPkg === undefined || cPkg === undefined) return ['package version is not semver'];
  let needMajor = false;
  let needMinor = false;
  for (const [file, r] of Object.entries(released.files)) {
    const c = current.files[file];
    const rv = parseSemver(schemaVersionOf(r) ?? '');
    if (c === undefined) {
      needMajor = true;
      if (cPkg[0] <= rPkg[0])
        problems.push(`${file}: released and now gone — a removal is breaking (package major bump required)`);
      continue;
    }
    const cv = parseSemver(schemaVersionOf(c) ?? '');
    if (rv === undefined || cv === undefined) {
      problems.push(`${file}: x-schema-version missing or not semver`);
      continue;
    }
    if (cmp(cv, rv) < 0)
      problems.push(`${file}: version went down (${schemaVersionOf(r)} → ${schemaVersionOf(c)})`);
    const breaking = breakingChanges(r, c);
    if (breaking.length > 0 && cv[0] <= rv[0]) {
      problems.push(
        `${file}: breaking change without a new major version (for an event type: a new .v${rv[0] + 1} type):\n` +
          breaking.map((b) => `    - ${b}`).join('\n'),
      );
    } else if (withoutIdentity(r) !== withoutIdentity(c) && cmp(cv, rv) === 0) {
      problems.push(
        `${file}: changed without a new version — bump x-schema-version's minor (additive change)`,
      );
    }
    if (cv[0] > rv[0]) needMajor = true;
    else if (cmp(cv, rv) > 0) needMinor = true;
  }
  for (const file of Object.keys(current.files)) if (!(file in released.files)) needMinor = true;
  if (needMajor && cPkg[0] <= rPkg[0])
    problems.push(
      `package version ${current.packageVersion}: a schema was removed or got a new major since ${released.packageVersion} — bump the package major`,
    );
  else if (needMinor && cPkg[0] === rPkg[0] && cPkg[1] <= rPkg[1])
    problems.push(
      `package version ${current.packageVersion}: schemas were added or changed since ${released.packageVersion} — bump the package minor`,
    );
  if (cmp(cPkg, rPkg) < 0)
    problems.push(
      `package version ${current.packageVersion} is lower than the released ${released.packageVersion}`,
    );
  return problems;
}
