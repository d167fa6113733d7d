/**
 * Starts each rendered workload's configuration the way its process does: the environment the
 * chart gives a container — literal values, and values from the Secrets the chart itself renders
 * (the dev profile's) — is loaded with the service's own `load…Config` (its zod schema with every
 * cross-field rule), so a values file that renders a service that cannot start fails CI. Secrets the
 * operator creates (not rendered) stand in as values of the documented shape ({@link EXTERNAL_SECRETS});
 * downward-API values (`fieldRef`) as a pod's. check-env-contract.ts checks the names; this the values.
 *
 *   npx tsx tools/deploy/check-env-values.ts RENDERED_YAML...
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { PROCESS_VARIABLES, configFileOf } from './check-env-contract';

/**
 * Stand-ins for the values of Secrets the operator creates (docs/deploy.md § 1), in the shapes the
 * docs tell them to create: what the check puts where the chart points at a Secret it does not render.
 */
export const EXTERNAL_SECRETS: Readonly<Record<string, string>> = {
  MONGO_URL: 'mongodb://isams-sync:secret@mongo.example:27017/?tls=true',
  CONNECTOR_KEK: Buffer.alloc(32, 7).toString('base64'),
  CONNECTOR_KEK_PREVIOUS: `k0:${Buffer.alloc(32, 8).toString('base64')}`,
  GATEWAY_TOKEN_PEPPER: Buffer.alloc(32, 9).toString('base64'),
  GATEWAY_OPERATOR_TOKEN: Buffer.alloc(32, 10).toString('base64'),
  KAFKA_SASL_USERNAME: 'isams-sync',
  KAFKA_SASL_PASSWORD: 'a-sasl-password',
  SMTP_PASSWORD: 'an-smtp-password',
};

/** Workload kinds whose pod template carries containers. */
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

export interface Manifest {
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: { template?: { spec?: { containers?: { name: string; env?: EnvVar[] }[] } } };
}

/** A container's environment as its process would see it, and the names whose value is a stand-in. */
export interface ResolvedEnv {
  workload: string;
  container: string;
  env: Record<string, string>;
  /** Variables from a Secret the chart does not render, given a stand-in (or missing one: a problem). */
  external: string[];
  problems: string[];
}

/** Every container environment of the workloads in the rendered manifests. */
export function resolveEnvironments(manifests: readonly Manifest[]): ResolvedEnv[] {
  const secrets = new Map<string, Record<string, string>>();
  const configMaps = new Map<string, Record<string, string>>();
  for (const m of manifests) {
    const name = m.metadata?.name;
    if (name === undefined) continue;
    if (m.kind === 'Secret') {
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
      secrets.set(name, { ...data, ...(m.stringData ?? {}) });
    } else if (m.kind === 'ConfigMap') configMaps.set(name, { ...(m.data ?? {}) });
  }
  const out: ResolvedEnv[] = [];
  for (const m of manifests) {
    if (!WORKLOADS.has(m.kind ?? '')) continue;
    const workload = m.metadata?.labels?.['app.kubernetes.io/name'] ?? m.metadata?.name ?? '?';
    for (const c of m.spec?.template?.spec?.containers ?? []) {
      const resolved: ResolvedEnv = { workload, container: c.name, env: {}, external: [], problems: [] };
      for (const v of c.env ?? []) resolveVariable(v, resolved, secrets, configMaps);
      out.push(resolved);
    }
  }
  return out;
}

function resolveVariable(
  v: EnvVar,
  into: ResolvedEnv,
  secrets: ReadonlyMap<string, Record<string, string>>,
  configMaps: ReadonlyMap<string, Record<string, string>>,
): void {
  if (v.valueFrom === undefined) {
    into.env[v.name] = v.value ?? '';
    return;
  }
  const { secretKeyRef, configMapKeyRef, fieldRef } = v.valueFrom;
  if (fieldRef !== undefined) {
    into.env[v.name] = fieldRef.fieldPath === 'status.podIP' ? '10.0.0.1' : 'isams-sync-pod-0';
    return;
  }
  const ref = secretKeyRef ?? configMapKeyRef;
  if (ref === undefined) return;
  const source = (secretKeyRef ? secrets : configMaps).get(ref.name);
  if (source !== undefined) {
    const value = source[ref.key];
    if (value !== undefined) into.env[v.name] = value;
    else if (ref.optional !== true)
      into.problems.push(`${v.name}: ${ref.name} has no key ${ref.key} (rendered by the chart)`);
    return;
  }
  // Created by the operator: an optional key may be absent; a required one gets its stand-in.
  if (ref.optional === true) return;
  into.external.push(v.name);
  const standIn = EXTERNAL_SECRETS[v.name];
  if (standIn === undefined)
    into.problems.push(`${v.name}: from ${ref.name}/${ref.key}, which the check has no stand-in for`);
  else into.env[v.name] = standIn;
}

/** The `load…Config` function a workload's config module exports (the one its process calls). */
export async function loaderOf(
  workload: string,
): Promise<((env: Record<string, string | undefined>) => unknown) | undefined> {
  const file = configFileOf(workload);
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const entry = Object.entries(mod).find(([k, v]) => /^load\w*Config$/.test(k) && typeof v === 'function');
  return entry?.[1] as ((env: Record<string, string | undefined>) => unknown) | undefined;
}

/** Problems of the rendered manifests' environments: `<workload>/<container>: <why it would not start>`. */
export async function valueProblems(manifests: readonly Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const r of resolveEnvironments(manifests)) {
    if (r.workload.startsWith('dev-')) continue; // third-party dev images (Kafka, MongoDB)
    const where = `${r.workload}/${r.container}`;
    for (const p of r.problems) problems.push(`${where}: ${p}`);
    const load = await loaderOf(r.workload);
    if (load === undefined) continue;
    const env = Object.fromEntries(Object.entries(r.env).filter(([k]) => !PROCESS_VARIABLES.has(k)));
    try {
      load(env);
    } catch (err) {
      problems.push(`${where}: would not start: ${(err as Error).message}`);
    }
  }
  return problems;
}

async function main(files: string[]): Promise<number> {
  if (files.length === 0) {
    console.error('usage: tsx tools/deploy/check-env-values.ts RENDERED_YAML...');
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    const manifests = parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJS() as Manifest | null)
      .filter((m): m is Manifest => m !== null && typeof m === 'object');
    const problems = await valueProblems(manifests);
    for (const p of problems) console.error(`${file}: ${p}`);
    failed += problems.length;
  }
  console.log(`check-env-values: ${files.length} rendered charts, ${failed} problems`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
