/**
 * Checks the chart against each service's validated environment: every variable the rendered
 * workloads set must be declared by the service's zod config schema (`services/<svc>/src/config.ts`;
 * the topic Job: `tools/build/create-topics.ts`), and every variable the schema requires must be set.
 *
 *   npx tsx tools/deploy/check-env-contract.ts ENV_JSON...
 *
 * ENV_JSON files come from `validate-manifests -env-out` (workload name → env-variable names).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Variables Node.js itself reads; allowed in any workload (e.g. through `extraEnv`). */
export const PROCESS_VARIABLES: ReadonlySet<string> = new Set(['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'TZ']);

/**
 * Variables docs/configuration.md promises to every Kafka-using service that the services' schemas do
 * not declare yet. The chart sets them (the documented contract); until the services read them they
 * are reported as warnings, not failures. Remove an entry once every service declares it.
 */
export const PENDING_CONTRACT: ReadonlySet<string> = new Set([
  'KAFKA_SSL',
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
]);

/** Result of {@link contractProblems}. */
export interface ContractCheck {
  problems: string[];
  warnings: string[];
}

/** Problems of one workload's variables against its schema (no problems = consistent). */
export function contractProblems(
  workload: string,
  schema: z.ZodObject,
  setVariables: readonly string[],
): ContractCheck {
  const declared = new Set(Object.keys(schema.shape));
  const set = new Set(setVariables);
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const v of set) {
    if (declared.has(v) || PROCESS_VARIABLES.has(v)) continue;
    if (PENDING_CONTRACT.has(v))
      warnings.push(`${workload}: sets ${v} (docs/configuration.md), which the service does not read yet`);
    else problems.push(`${workload}: sets ${v}, which its config schema does not declare`);
  }
  for (const [v, field] of Object.entries(schema.shape)) {
    if (!set.has(v) && !(field as z.ZodType).safeParse(undefined).success)
      problems.push(`${workload}: does not set required ${v}`);
  }
  return { problems, warnings };
}

/** The config module of a workload (may not exist yet for a service still being written). */
export function configFileOf(workload: string): string {
  return workload === 'create-topics'
    ? join(repoRoot, 'tools/build/create-topics.ts')
    : join(repoRoot, 'services', workload, 'src/config.ts');
}

/** The zod object schema of a workload: the first exported ZodObject of its config module. */
export async function schemaOf(workload: string): Promise<z.ZodObject> {
  const file = configFileOf(workload);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const schema = Object.values(mod).find((v): v is z.ZodObject => v instanceof z.ZodObject);
  if (!schema) throw new Error(`${file} exports no zod object schema`);
  return schema;
}

async function main(files: string[]): Promise<number> {
  if (files.length === 0) {
    console.error('usage: tsx tools/deploy/check-env-contract.ts ENV_JSON...');
    return 2;
  }
  let problems = 0;
  let checked = 0;
  const warnings = new Set<string>();
  const skipped = new Set<string>();
  for (const file of files) {
    const envs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>;
    for (const [workload, variables] of Object.entries(envs)) {
      if (workload.startsWith('dev-')) continue; // third-party dev images (Kafka, MongoDB)
      if (!existsSync(configFileOf(workload))) {
        skipped.add(workload);
        continue;
      }
      const found = contractProblems(workload, await schemaOf(workload), variables);
      for (const p of found.problems) console.error(`${file}: ${p}`);
      for (const w of found.warnings) warnings.add(w);
      problems += found.problems.length;
      checked++;
    }
  }
  for (const w of warnings) console.log(`WARNING ${w}`);
  for (const w of skipped) console.log(`SKIPPED ${w}: ${configFileOf(w)} does not exist yet`);
  console.log(
    `check-env-contract: ${checked} workloads checked, ${problems} problems, ${warnings.size} warnings`,
  );
  return problems === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
