/**
 * The `<Message>` error documents the iSAMS Batch API returns, with the HTTP status each comes
 * with. Source: shared docs `isams-batch-api.md` §1.8. Entries marked `assumed: true` are NOT
 * documented anywhere public ([U] in the reference): the simulator serves exactly these, and the
 * client classifies by MessageId first and falls back to the HTTP status, so a real server that
 * differs still lands in a sensible class. See docs/isams-assumptions.md.
 */
export interface IsamsMessageSpec {
  readonly messageId: string;
  readonly title: string;
  /** Description text; `{…}` placeholders are filled in by the sender. */
  readonly description: string;
  readonly httpStatus: number;
  /** True where the reference marks the status/body unknown and we chose a plausible one. */
  readonly assumed: boolean;
}

export const ISAMS_MESSAGES = {
  invalidApiKey: {
    messageId: 'InvalidApiKey',
    title: 'Invalid API Key',
    description: 'The API key is invalid.\nPlease contact your iSAMS administrator.',
    httpStatus: 401,
    assumed: false,
  },
  missingParameter: {
    messageId: 'MissingParameter',
    title: 'Missing Field: apiKey',
    description: 'A required field "apiKey" was not supplied or was in an incorrect format.',
    httpStatus: 400,
    assumed: true,
  },
  methodsNotAllocated: {
    messageId: 'MethodsNotAllocatedToKeyException',
    title: 'Methods Not Allocated To Key',
    description:
      'The following methods specified in the MethodsToRun filter are not allocated to the requested key: {methods}',
    httpStatus: 403,
    assumed: false,
  },
  filtersRequired: {
    messageId: 'FiltersRequiredException',
    title: 'Filters Required',
    description: 'Method "{method}" requires at least one filter. No filters have been supplied.',
    httpStatus: 400,
    assumed: true,
  },
  deadlock: {
    messageId: 'UnhandledException',
    title: 'Unknown Error',
    description:
      'Transaction (Process ID 118) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.',
    httpStatus: 500,
    assumed: false,
  },
  lockTimeout: {
    messageId: 'UnhandledException',
    title: 'Unknown Error',
    description: 'Lock request time out period exceeded.  The statement has been terminated.',
    httpStatus: 500,
    assumed: false,
  },
  malformedRequestBody: {
    messageId: 'UnhandledException',
    title: 'Unknown Error',
    description: 'Data at the root level is invalid. Line 1, position 1.',
    httpStatus: 500,
    assumed: false,
  },
  internalTimeout: {
    messageId: 'UnhandledException',
    title: 'Unknown Error',
    description:
      'Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding.',
    httpStatus: 500,
    assumed: true,
  },
  ipNotAllowed: {
    messageId: 'IPAddressRestricted',
    title: 'IP Address Restricted',
    description:
      'Access to the API from IP address {ip} is not allowed. Please contact your iSAMS administrator.',
    httpStatus: 403,
    assumed: true,
  },
  throttled: {
    messageId: 'ThrottleLimitExceeded',
    title: 'Throttle Limit Exceeded',
    description: 'The request limit of {limit} requests per {period} for this API key has been exceeded.',
    httpStatus: 429,
    assumed: true,
  },
  keyInactive: {
    messageId: 'InvalidApiKey',
    title: 'Invalid API Key',
    description: 'The API key is invalid.\nPlease contact your iSAMS administrator.',
    httpStatus: 401,
    assumed: true,
  },
} as const satisfies Record<string, IsamsMessageSpec>;

/** Renders a `<Message>` document exactly as iSAMS does, including its false utf-16 declaration. */
export function renderMessageDocument(spec: IsamsMessageSpec, params: Record<string, string> = {}): string {
  const description = spec.description.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '');
  return (
    '<?xml version="1.0" encoding="utf-16"?>\r\n<Message>\r\n' +
    `  <MessageId>${escapeXml(spec.messageId)}</MessageId>\r\n` +
    `  <MessageName>${escapeXml(spec.messageId)}</MessageName>\r\n` +
    `  <Title>${escapeXml(spec.title)}</Title>\r\n` +
    `  <Description>${escapeXml(description)}</Description>\r\n` +
    '</Message>'
  );
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
