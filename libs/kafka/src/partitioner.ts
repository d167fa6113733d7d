import { Partitioners } from './kafkajs-runtime';
import type { ICustomPartitioner } from 'kafkajs';
import { headerValue } from './cloudevents-binding';

/**
 * Partitions by the `ce_tenantid` header (falling back to the key), using kafkajs's Java-compatible
 * murmur2 partitioner. So every record of a school lands on one partition even when the record key
 * is per entity (compacted state topics), and the placement matches Java clients keyed by tenant id.
 */
export const tenantPartitioner: ICustomPartitioner = () => {
  const murmur = Partitioners.DefaultPartitioner();
  return ({ topic, partitionMetadata, message }) => {
    const tenant = headerValue(message.headers as Parameters<typeof headerValue>[0], 'ce_tenantid');
    return murmur({
      topic,
      partitionMetadata,
      message: tenant === undefined ? message : { ...message, key: tenant },
    });
  };
};
