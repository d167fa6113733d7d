/**
 * Re-encrypts every stored iSAMS key with the current key-encryption key.
 *
 *   CONNECTOR_KEK=<new> CONNECTOR_KEK_ID=k2 CONNECTOR_KEK_PREVIOUS=k1:<old> MONGO_URL=… \
 *     npx tsx services/connector/src/cli/rotate-kek.ts
 *
 * A key that does not decrypt (its school's stored address was changed to another host, or its KEK
 * is not configured) is skipped and named; it stays under its old KEK until the school enters its
 * key again. Keep CONNECTOR_KEK_PREVIOUS until this reports 0 left.
 *
 * Exit codes: 0 done (0 left), 1 failed (nothing half-written: each key is replaced in one update;
 * run it again), 2 every other key rotated, some left (named on stdout).
 */
import { connectMongo, mongoOptionsFromConfig } from '@isams-sync/mongo';
import { createLogger } from '@isams-sync/logger';
import { loadConfig, env } from '@isams-sync/config';
import { z } from 'zod';
import { createKeyCipher, parsePreviousKeks } from '../adapters/crypto/key-cipher';
import { IsamsBatchSource } from '../adapters/isams/batch-source';
import { FetchPlansRepository } from '../adapters/mongo/fetch-plans-repository';
import { ScheduleRepository } from '../adapters/mongo/schedule-repository';
import { SettingsRepository } from '../adapters/mongo/settings-repository';
import { KeyVault } from '../use-cases/key-vault';
import { SettingsService } from '../use-cases/settings-service';

const config = loadConfig(
  z.object({
    MONGO_URL: env.secret(),
    MONGO_DB: z.string().trim().min(1).default('connector'),
    CONNECTOR_KEK: env.secret({ minLength: 40 }),
    CONNECTOR_KEK_ID: z.string().trim().min(1).default('k1'),
    CONNECTOR_KEK_PREVIOUS: env.secret().optional(),
  }),
  process.env,
);
// Rotation never talks to iSAMS; the client settings (and the probe built on them) are required by
// the service's type only.
const UNUSED_CLIENT_SETTINGS = {
  connectTimeoutMs: 1,
  readTimeoutMs: 1,
  totalTimeoutMs: 1,
  maxBytes: 1,
  readAheadBytes: 0,
  retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  egress: { allowPrivateAddresses: false, hostSuffixes: [], allowedPorts: [443] },
};
const logger = createLogger({ service: 'connector-rotate-kek', level: 'warn' });
const mongo = await connectMongo(mongoOptionsFromConfig(config, { appName: 'connector-rotate-kek', logger }));
try {
  const cipher = createKeyCipher(
    { id: config.CONNECTOR_KEK_ID, key: config.CONNECTOR_KEK },
    parsePreviousKeks(config.CONNECTOR_KEK_PREVIOUS),
  );
  const repo = new SettingsRepository(mongo.db);
  const service = new SettingsService(
    {
      settings: repo,
      schedules: new ScheduleRepository(mongo.db),
      keys: new KeyVault(repo, cipher, logger),
      fetchPlans: new FetchPlansRepository(mongo.db),
      probe: new IsamsBatchSource(UNUSED_CLIENT_SETTINGS, []),
      logger,
    },
    {
      allowInsecureLoopback: false,
      scheduleJitterMs: 0,
      egressIps: [],
      egress: UNUSED_CLIENT_SETTINGS.egress,
    },
  );
  const result = await service.rotateKeyEncryption();
  console.log(
    `re-encrypted ${result.reencrypted} key(s) with ${config.CONNECTOR_KEK_ID}; ${result.alreadyCurrent} already current; ${result.left} left`,
  );
  if (result.left > 0) {
    console.log(
      `${result.left} school(s) left under an older key-encryption key: the stored key does not decrypt. Ask each to enter its Batch API key again (Settings › Data Input Source), then run this again; keep CONNECTOR_KEK_PREVIOUS until it reports 0 left.`,
    );
    for (const s of result.skipped) console.log(`  ${s.tenantId} (${s.code}, kek ${s.kekId})`);
    process.exitCode = 2;
  }
} catch (err) {
  console.error(`rotation failed: ${(err as { code?: string }).code ?? (err as Error).message}`);
  process.exitCode = 1;
} finally {
  await mongo.close();
}
