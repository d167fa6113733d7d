import type { CommonServiceConfig } from '@isams-sync/config';
import { serviceKeyringFromConfig } from '@isams-sync/grpc';
import type { GrpcIdentityConfig, ServiceKeyring } from '@isams-sync/grpc';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import { createMetrics } from '@isams-sync/metrics';
import type { Metrics } from '@isams-sync/metrics';

/** What a back-end service's composition root makes before anything else. */
export interface ServiceBasics {
  readonly logger: Logger;
  readonly identity: ServiceKeyring;
  readonly metrics: Metrics;
}

/**
 * The logger (named `SERVICE_NAME` when set, else `service`; a test's own when it passes one), the
 * service identity read from `GRPC_IDENTITY_DIR`, and the metrics registry labelled `service`.
 */
export function serviceBasics(
  config: Pick<CommonServiceConfig, 'SERVICE_NAME' | 'LOG_LEVEL'> & GrpcIdentityConfig,
  service: string,
  logger?: Logger,
): ServiceBasics {
  return {
    logger: logger ?? createLogger({ service: config.SERVICE_NAME ?? service, level: config.LOG_LEVEL }),
    identity: serviceKeyringFromConfig(config, service),
    metrics: createMetrics({ service }),
  };
}
