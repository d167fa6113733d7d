// kafkajs is CommonJS; Node's ESM loader only detects some of its named exports (not
// ConfigResourceTypes, for one), so runtime values come from the default export.
import kafkajs from 'kafkajs';

export const { Kafka, logLevel, Partitioners, ConfigResourceTypes } = kafkajs;
