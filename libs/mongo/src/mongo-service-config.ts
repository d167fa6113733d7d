import type { Logger } from '@isams-sync/logger';
import type { ConnectMongoOptions } from './connect-mongo';

/** The variables that name a service's database (`MONGO_URL`, `MONGO_DB`; docs/configuration.md). */
export interface MongoServiceConfig {
  readonly MONGO_URL: string;
  readonly MONGO_DB: string;
}

/** {@link ConnectMongoOptions} from a service's (or a CLI's) `MONGO_URL` and `MONGO_DB`. */
export function mongoOptionsFromConfig(
  config: MongoServiceConfig,
  opts: { appName: string; logger: Logger },
): ConnectMongoOptions {
  return { url: config.MONGO_URL, dbName: config.MONGO_DB, logger: opts.logger, appName: opts.appName };
}
