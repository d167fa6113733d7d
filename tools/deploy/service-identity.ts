/**
 * Service-identity keys and operator tokens (docs/security.md, "Service-to-service identity").
 *
 *   npx tsx tools/deploy/service-identity.ts secret [--name isams-sync-service-identity] [--namespace isams-sync]
 *       prints a Kubernetes Secret manifest with a fresh key for every caller→callee pair
 *       (pipe it into `kubectl apply -f -`); nothing is written to disk
 *   npx tsx tools/deploy/service-identity.ts keys <dir>
 *       writes fresh `<caller>-to-<callee>.key` files into <dir> (GRPC_IDENTITY_DIR of local processes)
 *   npx tsx tools/deploy/service-identity.ts token --key-file <operator-to-connector.key> --method <path>
 *       [--as operator] [--to connector] [--tenant '*'] [--ttl 300]
 *       prints a service token for one call (e.g. grpcurl -H "authorization: Bearer $(…)")
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ANY_TENANT,
  SERVICE_CALLS,
  generateServiceKeys,
  mintServiceToken,
  parseKeyFile,
  serviceKeyringFrom,
  writeServiceKeys,
} from '@isams-sync/grpc';

/** The Secret manifest (YAML) holding a fresh key per pair of `SERVICE_CALLS`. */
export function secretManifest(name: string, namespace?: string): string {
  const keys = generateServiceKeys(SERVICE_CALLS);
  const data = Object.entries(keys).map(
    ([pair, [key]]) => `  ${pair}.key: ${Buffer.from(key!.toString('base64')).toString('base64')}`,
  );
  return [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${name}`,
    ...(namespace === undefined ? [] : [`  namespace: ${namespace}`]),
    'type: Opaque',
    'data:',
    ...data,
    '',
  ].join('\n');
}

/** A token for one call, signed with the key in `keyFile` (`<caller>-to-<callee>.key`). */
export function operatorToken(options: {
  keyFile: string;
  method: string;
  as: string;
  to: string;
  tenant: string;
  ttlSeconds: number;
}): string {
  const keys = parseKeyFile(readFileSync(options.keyFile, 'utf8'), basename(options.keyFile));
  const keyring = serviceKeyringFrom(options.as, { [`${options.as}-to-${options.to}`]: keys });
  return mintServiceToken(keyring, {
    audience: options.to,
    method: options.method,
    tenant: options.tenant,
    ttlSeconds: options.ttlSeconds,
  });
}

const USAGE = `usage:
  service-identity.ts secret [--name <secret>] [--namespace <ns>]
  service-identity.ts keys <dir>
  service-identity.ts token --key-file <file> --method </pkg.Service/Method> [--as operator] [--to connector] [--tenant '*'] [--ttl 300]`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string', default: 'isams-sync-service-identity' },
      namespace: { type: 'string' },
      'key-file': { type: 'string' },
      method: { type: 'string' },
      as: { type: 'string', default: 'operator' },
      to: { type: 'string', default: 'connector' },
      tenant: { type: 'string', default: ANY_TENANT },
      ttl: { type: 'string', default: '300' },
    },
  });
  switch (command) {
    case 'secret':
      process.stdout.write(secretManifest(values.name, values.namespace));
      return 0;
    case 'keys': {
      const dir = positionals[0];
      if (dir === undefined) break;
      writeServiceKeys(dir);
      console.error(`service-identity: wrote ${SERVICE_CALLS.length} keys into ${dir}`);
      return 0;
    }
    case 'token': {
      if (values['key-file'] === undefined || values.method === undefined) break;
      process.stdout.write(
        `${operatorToken({
          keyFile: values['key-file'],
          method: values.method,
          as: values.as,
          to: values.to,
          tenant: values.tenant,
          ttlSeconds: Number(values.ttl),
        })}\n`,
      );
      return 0;
    }
  }
  console.error(USAGE);
  return 2;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
