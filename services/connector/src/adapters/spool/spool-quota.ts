import { ConnectorErrors } from '../../domain/connector-errors';

/**
 * The bytes every run of this process may spool together (`CONNECTOR_SPOOL_QUOTA_BYTES`). A run
 * reserves each line before it is written and gives its bytes back when a dataset is discarded or
 * the spool removed; a reservation past the quota is refused with `CONNECTOR_SPOOL_FULL`, so the
 * spool volume (sized from the same numbers in the chart) never fills and the pod is never evicted
 * for it.
 */
export class SpoolQuota {
  private usedBytes = 0;

  constructor(readonly limitBytes: number) {}

  get used(): number {
    return this.usedBytes;
  }

  /** Takes `bytes` of the quota or throws `CONNECTOR_SPOOL_FULL` (taking nothing). */
  reserve(bytes: number): void {
    if (this.usedBytes + bytes > this.limitBytes)
      throw ConnectorErrors.CONNECTOR_SPOOL_FULL({ quotaBytes: this.limitBytes });
    this.usedBytes += bytes;
  }

  release(bytes: number): void {
    this.usedBytes = Math.max(0, this.usedBytes - bytes);
  }
}
