/** The value that replaces anything redacted or scrubbed. */
export const REDACTED = '[REDACTED]';

/**
 * Field names whose values are secrets: the iSAMS API key, credentials, tokens and HTTP auth
 * headers. `key` is included although Kafka message keys are harmless: a bare `key` field is too
 * likely to be the iSAMS key. Log Kafka keys as `messageKey`/`partitionKey` instead.
 */
export const SECRET_FIELDS: readonly string[] = [
  'apiKey',
  'api_key',
  'isamsKey',
  'isamsApiKey',
  'key',
  'encryptionKey',
  'privateKey',
  'password',
  'passwd',
  'secret',
  'clientSecret',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'connectionString',
  'credentials',
];

/**
 * Field names whose values are personal data of pupils, staff or contacts (UK GDPR; children's
 * data). `name` is deliberately absent: services log entity, dataset and topic names under it.
 * Whole person objects (`pupil`, `staff`, `contact`, …) are redacted, so log counts as
 * `pupilCount`/`staffCount`, and identify people only by their opaque ids.
 */
export const PERSONAL_FIELDS: readonly string[] = [
  'forename',
  'surname',
  'preferredName',
  'fullName',
  'displayName',
  'firstName',
  'lastName',
  'middleName',
  'middleNames',
  'maidenName',
  'initials',
  'dateOfBirth',
  'dob',
  'birthDate',
  'gender',
  'email',
  'emailAddress',
  'phone',
  'phoneNumber',
  'mobile',
  'mobileNumber',
  'telephone',
  'address',
  'addressLine1',
  'addressLine2',
  'street',
  'town',
  'postcode',
  'postCode',
  'upn',
  'uln',
  'contact',
  'contacts',
  'pupil',
  'pupils',
  'student',
  'students',
  'staff',
  'teacher',
  'parent',
  'parents',
  'guardian',
  'person',
  'medical',
  'medicalNotes',
];

function pathFor(field: string, prefix: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(field) ? `${prefix}${field}` : `${prefix}["${field}"]`;
}

/**
 * The pino `redact` paths: every secret and personal field at the top level and one level deep
 * (`x.field`), plus the usual request/response header and settings locations. Values are replaced
 * by `[REDACTED]`. A deeper, case-insensitive key scrub runs in addition (see README), so iSAMS's
 * PascalCase fields (`Forename`, `EmailAddress`) and deeper nesting are caught as well.
 */
export const REDACTED_PATHS: readonly string[] = [
  ...[...SECRET_FIELDS, ...PERSONAL_FIELDS].flatMap((field) => [pathFor(field, ''), pathFor(field, '*.')]),
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'settings.apiKey',
  'settings.key',
  'config.apiKey',
  'tenant.settings.apiKey',
];

const normalise = (field: string): string => field.toLowerCase().replace(/[-_]/g, '');

const SENSITIVE = new Set([...SECRET_FIELDS, ...PERSONAL_FIELDS].map(normalise));

/** True when a field of this name (any case, `_`/`-` ignored) holds a secret or personal data. */
export function isSensitiveField(field: string): boolean {
  return SENSITIVE.has(normalise(field));
}
