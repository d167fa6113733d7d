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

function pathFor(field: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
}

/**
 * The pino `redact` paths (censor `[REDACTED]`): every name in {@link SECRET_FIELDS} and
 * {@link PERSONAL_FIELDS} at the top level, plus the usual nested secret locations (auth headers,
 * `settings.apiKey`). Nesting (`x.apiKey`, `x.y.forename`, iSAMS's PascalCase `Forename`) is covered
 * by the deep, case-insensitive field scrub that runs on every log object, not by `*.field`
 * wildcards: each pino wildcard path costs about as much as a whole log line (measured), and one
 * per field would make every line ~30× slower.
 */
export const REDACTED_PATHS: readonly string[] = [
  ...[...SECRET_FIELDS, ...PERSONAL_FIELDS].map(pathFor),
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'settings.apiKey',
  'settings.key',
  'config.apiKey',
  'options.apiKey',
  'isams.apiKey',
  'tenant.apiKey',
  'tenant.settings.apiKey',
  'credentials.password',
];

const normalise = (field: string): string => field.toLowerCase().replace(/[-_]/g, '');

const SENSITIVE = new Set([...SECRET_FIELDS, ...PERSONAL_FIELDS].map(normalise));
// Field names repeat endlessly across log lines; remember the verdicts (bounded, in case keys are data).
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 5000;

/** True when a field of this name (any case, `_`/`-` ignored) holds a secret or personal data. */
export function isSensitiveField(field: string): boolean {
  let verdict = verdicts.get(field);
  if (verdict === undefined) {
    verdict = SENSITIVE.has(normalise(field));
    if (verdicts.size < MAX_VERDICTS) verdicts.set(field, verdict);
  }
  return verdict;
}
