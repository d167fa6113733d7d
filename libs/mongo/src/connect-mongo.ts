import type { Logger } from '@isams-sync/logger';
import { MongoClient } from 'mongodb';
import type { Db, MongoClientOptions } from 'mongodb';
import { redactMongoUrl } from './redact-mongo-url';
import { attachActiveRecorders, queryShapeRecordingActive } from './query-shapes';
import { toMongoError } from './to-mongo-error';

/** Options of {@link connectMongo}. Timeouts are in milliseconds. */
export interface ConnectMongoOptions {
  /** Connection string, e.g. `mongodb://127.0.0.1:27117/?directConnection=true&retryWrites=false`. */
  url: string;
  /** The database this service owns. */
  dbName: string;
  /** Logger for connection events; the URL is logged without credentials. */
  logger: Logger;
  /** Reported to the server (visible in its logs and `currentOp`), e.g. `roster`. */
  appName: string;
  /** How long an operation waits for a usable server before failing with `MONGO_UNAVAILABLE`. Default 5000. */
  serverSelectionTimeoutMs?: number;
  /** TCP connect timeout. Default 5000. */
  connectTimeoutMs?: number;
  /** Socket inactivity timeout; 0 disables it. Default 60000. */
  socketTimeoutMs?: number;
  /** Maximum connections in the pool. Default 20. */
  maxPoolSize?: number;
  /** Connections kept open while idle. Default 0. */
  minPoolSize?: number;
  /** How long a request waits for a pooled connection. Default 10000. */
  waitQueueTimeoutMs?: number;
  /** Close pooled connections idle for longer than this. Default 60000. */
  maxIdleTimeMs?: number;
  /** Extra driver options; they win over the ones above. */
  driverOptions?: MongoClientOptions;
}

/** A connected database handle returned by {@link connectMongo}. */
export interface MongoConnection {
  /** The driver client (for rare needs such as a second database). */
  client: MongoClient;
  /** The service's database. */
  db: Db;
  /** Closes the pool; safe to call more than once. */
  close(): Promise<void>;
  /** True when the server answers a `ping` within the server-selection timeout. Never throws. */
  ping(): Promise<boolean>;
}

/**
 * Connects to MongoDB (or FerretDB), verifies the connection with a `ping` and returns the handle.
 * Fails with `MONGO_UNAVAILABLE` within `serverSelectionTimeoutMs` when the server is unreachable.
 *
 * @example
 * ```ts
 * const mongo = await connectMongo({ url: config.MONGO_URL, dbName: 'roster', logger, appName: 'roster' });
 * await ensureIndexes(mongo.db, ROSTER_INDEXES);
 * ```
 */
export async function connectMongo(options: ConnectMongoOptions): Promise<MongoConnection> {
  const mongo = openMongo(options);
  try {
    await verifyMongo(mongo);
  } catch (err) {
    await mongo.client.close().catch(() => undefined);
    throw err;
  }
  return mongo;
}

/** The logger and the credential-free URL of each handle {@link openMongo} made. */
const HANDLES = new WeakMap<MongoConnection, { log: Logger; safeUrl: string; appName: string }>();

/**
 * The handle of {@link connectMongo} without connecting: nothing is sent until the first operation
 * (the driver connects then) or {@link verifyMongo}. For a process that must come up while the
 * database is away (the gateway builds its stores on it, then waits for the database in `start`).
 */
export function openMongo(options: ConnectMongoOptions): MongoConnection {
  const log = options.logger.child({ component: 'mongo', dbName: options.dbName });
  const safeUrl = redactMongoUrl(options.url);
  let client: MongoClient;
  try {
    client = new MongoClient(options.url, {
      appName: options.appName,
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000,
      connectTimeoutMS: options.connectTimeoutMs ?? 5_000,
      socketTimeoutMS: options.socketTimeoutMs ?? 60_000,
      maxPoolSize: options.maxPoolSize ?? 20,
      minPoolSize: options.minPoolSize ?? 0,
      waitQueueTimeoutMS: options.waitQueueTimeoutMs ?? 10_000,
      maxIdleTimeMS: options.maxIdleTimeMs ?? 60_000,
      // Tests that record query shapes (`recordQueryShapes`) need the driver's command events.
      ...(queryShapeRecordingActive() ? { monitorCommands: true } : {}),
      ...options.driverOptions,
    });
    attachActiveRecorders(client);
  } catch (err) {
    throw toMongoError(err, { operation: 'connect' });
  }
  const db = client.db(options.dbName);
  client.on('connectionPoolCleared', () => log.warn({ url: safeUrl }, 'mongo connection pool cleared'));

  let closing: Promise<void> | undefined;
  const mongo: MongoConnection = {
    client,
    db,
    close() {
      closing ??= client.close().then(
        () => log.info('mongo connection closed'),
        (err: unknown) => log.warn({ err: toMongoError(err, { operation: 'close' }) }, 'mongo close failed'),
      );
      return closing;
    },
    async ping() {
      try {
        await db.command({ ping: 1 });
        return true;
      } catch {
        return false;
      }
    },
  };
  HANDLES.set(mongo, { log, safeUrl, appName: options.appName });
  return mongo;
}

/**
 * Connects a handle of {@link openMongo} and checks it with a `ping`; fails with `MONGO_UNAVAILABLE`
 * within the server-selection timeout while the server is unreachable (the handle stays usable: a
 * later call tries again).
 */
export async function verifyMongo(mongo: MongoConnection): Promise<void> {
  const handle = HANDLES.get(mongo);
  try {
    await mongo.client.connect();
    await mongo.db.command({ ping: 1 });
  } catch (err) {
    // Not logged here: the caller says what a failure means (a start waits and retries, a CLI exits).
    throw toMongoError(err, { operation: 'connect' });
  }
  handle?.log.info({ url: handle.safeUrl, appName: handle.appName }, 'mongo connected');
}

/**
 * The readiness check of a connection (for `createReadiness` of `@isams-sync/metrics`): a `ping`
 * through the pool, which fails while no server can be selected and succeeds again by itself once the
 * driver reconnects.
 */
export function mongoReadinessCheck(connection: Pick<MongoConnection, 'ping'>): {
  name: 'mongo';
  probe(): Promise<boolean>;
} {
  return { name: 'mongo', probe: () => connection.ping() };
}
