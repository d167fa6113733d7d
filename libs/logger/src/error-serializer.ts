import pino from 'pino';
import { scrubRecord, scrubSecrets } from './scrub';

/**
 * pino's standard `err` serializer (type, message and stack including causes, own properties),
 * followed by a scrub: secrets and GUIDs removed from every string, sensitive fields redacted
 * (e.g. personal data in an AppError's `details`).
 */
export function scrubbingErrSerializer(err: unknown): unknown {
  if (typeof err === 'string') return scrubSecrets(err);
  const serialized: unknown = pino.stdSerializers.err(err as Error);
  if (typeof serialized !== 'object' || serialized === null) return serialized;
  const own: Record<string, unknown> = { ...(serialized as Record<string, unknown>) };
  if (Array.isArray(own.aggregateErrors))
    own.aggregateErrors = own.aggregateErrors.map(scrubbingErrSerializer);
  const scrubbed = scrubRecord(own, scrubSecrets);
  // scrubRecord returns its input unchanged when clean; always hand pino a plain object.
  return scrubbed === own ? own : scrubbed;
}
