import { DATASETS } from '../datasets';
import type { DatasetDescriptor } from '../datasets';
import { boundText } from './bound-text';
import { IsamsError } from './isams-error';

/** The fields of an iSAMS `<Message>` error document. */
export interface IsamsMessage {
  messageId?: string;
  messageName?: string;
  title?: string;
  description?: string;
}

const DEADLOCK = /deadlock|rerun the transaction/i;
const LOCK_TIMEOUT = /lock request time ?out/i;
const INTERNAL_TIMEOUT = /timeout expired|timeout period elapsed|timed out/i;
const IP_RESTRICTED = /\bip\b|ip ?address|restricted/i;
const THROTTLED = /throttl|request limit|too many requests/i;

/**
 * Parses the method names out of a MethodsNotAllocatedToKeyException description (iSAMS echoes
 * them lower-cased after a colon) and maps them onto our datasets (case-insensitively).
 */
export function parseNotAllocatedMethods(description: string): {
  methods: string[];
  datasets: DatasetDescriptor[];
} {
  const colon = description.lastIndexOf(':');
  const list = colon >= 0 ? description.slice(colon + 1) : '';
  const methods = list
    .split(/[\s,;]+/)
    .map((m) => m.trim().replace(/\.$/, ''))
    .filter((m) => m.length > 0);
  const datasets = Object.values(DATASETS).filter(
    (d) => d.method !== undefined && methods.some((m) => m.toLowerCase() === d.method!.toLowerCase()),
  );
  return { methods, datasets };
}

/**
 * Turns an iSAMS `<Message>` document (and the HTTP status it came with, if known) into a
 * classified {@link IsamsError}. Classification is by MessageId first, then by the wording of the
 * description, then by the HTTP status — several messages are [U] in the reference, so a real
 * server that words them differently still lands in a sensible class.
 */
export function classifyMessage(message: IsamsMessage, httpStatus?: number): IsamsError {
  // Everything here is the server's text: bounded before it goes into a message (see boundText).
  const id = boundText((message.messageId ?? message.messageName ?? '').trim(), 100);
  const idLower = id.toLowerCase();
  const title = boundText((message.title ?? '').trim());
  const description = boundText((message.description ?? '').trim().replace(/\s+/g, ' '));
  const details: Record<string, unknown> = { messageId: id, title, description };
  if (httpStatus !== undefined) details.httpStatus = httpStatus;
  const said = `iSAMS said: "${title}${description ? ` — ${description.replace(/\s+/g, ' ')}` : ''}"`;
  const text = `${title} ${description}`;

  if (idLower === 'invalidapikey' || idLower === 'missingparameter' || (httpStatus === 401 && !id)) {
    return new IsamsError({
      code: 'ISAMS_INVALID_KEY',
      message: `iSAMS rejected the Batch API key (${id || `HTTP ${httpStatus}`}). ${said}`,
      details,
    });
  }
  if (idLower === 'methodsnotallocatedtokeyexception') {
    const { methods, datasets } = parseNotAllocatedMethods(description);
    const names = datasets.map((d) => d.adminName);
    const tick = names.length > 0 ? names.join(', ') : methods.join(', ');
    return new IsamsError({
      code: 'ISAMS_METHODS_NOT_ALLOCATED',
      message: `The Batch API key is missing datasets: ${tick || 'unknown methods'}. ${said}`,
      details: { ...details, methods, datasets: datasets.map((d) => d.id), adminNames: names },
      adminAction: `In iSAMS Control Panel › API Services Manager › Manage Batch API Keys, open the key, go to its Batch Methods tab, tick ${tick || 'the missing datasets'}, and save the key.`,
    });
  }
  if (idLower.includes('throttl') || THROTTLED.test(text) || httpStatus === 429) {
    return new IsamsError({
      code: 'ISAMS_THROTTLED',
      message: `iSAMS throttled the request. ${said}`,
      details,
    });
  }
  if (
    idLower.includes('ipaddress') ||
    idLower.includes('iprestrict') ||
    (httpStatus === 403 && IP_RESTRICTED.test(text))
  ) {
    return new IsamsError({
      code: 'ISAMS_IP_NOT_ALLOWED',
      message: `iSAMS refused our IP address. ${said}`,
      details,
    });
  }
  if (DEADLOCK.test(description) || LOCK_TIMEOUT.test(description)) {
    return new IsamsError({
      code: 'ISAMS_SERVER_BUSY',
      message: `iSAMS hit a database ${DEADLOCK.test(description) ? 'deadlock' : 'lock time-out'} while generating the document. ${said}`,
      details,
    });
  }
  if (idLower === 'unhandledexception' && INTERNAL_TIMEOUT.test(description)) {
    return new IsamsError({
      code: 'ISAMS_TIMEOUT',
      message: `iSAMS timed out generating the document. ${said}`,
      details,
    });
  }
  const transient = httpStatus !== undefined && [408, 502, 503, 504].includes(httpStatus);
  return new IsamsError({
    code: 'ISAMS_ERROR_DOCUMENT',
    message: `iSAMS returned an error document${id ? ` (${id})` : ''}. ${said}`,
    details,
    transient,
  });
}
