/**
 * Platform-operator CLI for school admin tokens (stored hashed in the gateway's database).
 *
 *   npx tsx services/gateway/src/cli/tokens.ts issue  --tenant <schoolId> --label "<who/what>" [--by <operator>]
 *   npx tsx services/gateway/src/cli/tokens.ts list   --tenant <schoolId>
 *   npx tsx services/gateway/src/cli/tokens.ts revoke --id <tokenId> [--by <operator>]
 *
 * Reads MONGO_URL, MONGO_DB (default gateway), GATEWAY_TOKEN_PEPPER and GATEWAY_ADMIN_TOKEN_MAX_AGE
 * (default 90 days, as the gateway) from the environment.
 * The issued token is printed once and cannot be shown again. Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { parseArgs } from 'node:util';
import { env, loadConfig } from '@isams-sync/config';
import { isValidTenantId } from '@isams-sync/grpc';
import { createLogger } from '@isams-sync/logger';
import { connectMongo, ensureIndexes, mongoOptionsFromConfig } from '@isams-sync/mongo';
import { z } from 'zod';
import { createMongoAdminTokenRepository } from '../adapters/mongo/admin-token.repository';
import { GATEWAY_INDEXES } from '../adapters/mongo/collections';
import { createMongoAuditLog } from '../adapters/mongo/audit-log.repository';
import { createAdminTokens } from '../use-cases/admin-tokens';

const USAGE = `usage:
  tokens.ts issue  --tenant <schoolId> --label <text> [--by <operator>] [--json]
  tokens.ts list   --tenant <schoolId> [--json]
  tokens.ts revoke --id <tokenId> [--by <operator>] [--json]`;

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    label: { type: 'string' },
    id: { type: 'string' },
    by: { type: 'string', default: process.env.USER ?? 'operator' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) usage();
const command = positionals[0];
if (command !== 'issue' && command !== 'list' && command !== 'revoke')
  usage(`unknown command: ${command ?? '(none)'}`);
if ((command === 'issue' || command === 'list') && !isValidTenantId(values.tenant))
  usage('--tenant <schoolId> is required (1–64 of A-Za-z0-9_-)');
if (command === 'issue' && (values.label === undefined || values.label.trim() === ''))
  usage('--label is required');
if (command === 'revoke' && (values.id === undefined || values.id === '')) usage('--id is required');

const config = loadConfig(
  z.object({
    MONGO_URL: env.secret(),
    MONGO_DB: z.string().trim().min(1).default('gateway'),
    GATEWAY_TOKEN_PEPPER: env.secret({ minLength: 32 }),
    GATEWAY_ADMIN_TOKEN_MAX_AGE: env.durationMs().default(90 * 24 * 3_600_000),
  }),
);
const logger = createLogger({ service: 'gateway-tokens-cli', level: 'warn' });
const mongo = await connectMongo(mongoOptionsFromConfig(config, { appName: 'gateway-tokens-cli', logger }));
const print = (human: string, data: unknown) =>
  console.log(values.json ? JSON.stringify(data, null, 2) : human);
try {
  await ensureIndexes(mongo.db, GATEWAY_INDEXES);
  const maxAgeMs = config.GATEWAY_ADMIN_TOKEN_MAX_AGE;
  const tokens = createAdminTokens(createMongoAdminTokenRepository(mongo.db, maxAgeMs), {
    pepper: config.GATEWAY_TOKEN_PEPPER,
    maxAgeMs,
  });
  const audit = createMongoAuditLog(mongo.db);
  const actor = `operator:${values.by}`;
  /** The audit record of a token action the operator took here (`requestId: 'cli'`). */
  const recordDone = (action: 'token.issue' | 'token.revoke', t: { tenantId: string; tokenId: string }) =>
    audit.record({
      tenantId: t.tenantId,
      action,
      actor,
      requestId: 'cli',
      target: { tokenId: t.tokenId },
      outcome: 'succeeded',
    });
  if (command === 'issue') {
    const issued = await tokens.issue({
      tenantId: values.tenant!,
      label: values.label!.trim(),
      createdBy: values.by!,
    });
    await recordDone('token.issue', issued);
    print(
      `Issued token ${issued.tokenId} for ${issued.tenantId} (${issued.label}), valid until ${issued.expiresAt}.\nToken (shown once, give it to the school's admin securely):\n${issued.token}`,
      issued,
    );
  } else if (command === 'list') {
    const list = await tokens.list(values.tenant!);
    print(
      list.length === 0
        ? `No tokens for ${values.tenant}.`
        : list
            .map(
              (t) =>
                `${t.tokenId}  ${t.revokedAt ? 'REVOKED' : Date.parse(t.expiresAt) <= Date.now() ? 'EXPIRED' : 'active '}  ${t.createdAt}  until ${t.expiresAt}  ${t.label}  (by ${t.createdBy})`,
            )
            .join('\n'),
      list,
    );
  } else {
    const info = await tokens.revoke(values.id!, actor);
    await recordDone('token.revoke', info);
    print(`Revoked ${info.tokenId} (${info.tenantId}, ${info.label}) at ${info.revokedAt}.`, info);
  }
} catch (err) {
  console.error(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await mongo.close();
}
