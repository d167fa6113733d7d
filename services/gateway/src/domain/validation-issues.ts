import type { z } from 'zod';
import { GatewayErrors } from './gateway-errors';

/**
 * One problem with a request, as every 400 `GATEWAY_VALIDATION_FAILED` and every upstream
 * invalid-argument error reports it in `details.issues`: where (`body`, `querystring`, `params`,
 * `headers`, `path` for the URL itself, `upstream` for a field the called service refused), the
 * JSON-pointer path of the field (`/notificationEmails/1`; empty for the whole part) and the problem.
 */
export interface ValidationIssue {
  in: string;
  path: string;
  message: string;
}

/** The one error a request that is not valid gets: `GATEWAY_VALIDATION_FAILED` with `details.issues`. */
export function validationFailed(issues: ValidationIssue[]) {
  return GatewayErrors.GATEWAY_VALIDATION_FAILED({ issues });
}

/** A field path (`['notificationEmails', 1]`, `page.page_token`, `removals[0].id`) as a JSON pointer. */
export function jsonPointer(path: ReadonlyArray<PropertyKey> | string): string {
  const steps =
    typeof path === 'string'
      ? path
          .replace(/\[(\d+)\]/g, '.$1')
          .split('.')
          .filter((s) => s !== '')
      : path.map(String);
  return steps.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Parses `value` with `schema`, or throws {@link validationFailed} naming every bad field of the
 * request part `where` — for the parsing a handler does itself (the route schemas are checked before
 * the handler runs and answered the same way).
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(
    result.error.issues.map((issue) => ({
      in: where,
      path: jsonPointer(issue.path),
      message: issue.message,
    })),
  );
}

/**
 * The issues in an upstream service's invalid-argument details — the connector's `{ field, reason }`,
 * the roster's `{ field, problem }`, the roster's and bookings' `{ fields: [{ field, problem }] }` —
 * or `undefined` when the details name no field.
 */
export function upstreamIssues(details: Record<string, unknown> | undefined): ValidationIssue[] | undefined {
  const fields = Array.isArray(details?.fields) ? (details.fields as unknown[]) : [details];
  const issues: ValidationIssue[] = [];
  for (const f of fields) {
    if (f === null || typeof f !== 'object') continue;
    const { field, reason, problem } = f as Record<string, unknown>;
    const message = typeof reason === 'string' ? reason : problem;
    if (typeof field === 'string' && typeof message === 'string')
      issues.push({ in: 'upstream', path: field === '(request)' ? '' : jsonPointer(field), message });
  }
  return issues.length > 0 ? issues : undefined;
}

/**
 * Upstream refusals whose details hold the refused value rather than naming the field (bookings'
 * `BOOKINGS_TIME_ZONE_UNKNOWN` has `{ timeZone }`): the field of the admin API each one refuses.
 */
const FIELD_REFUSED_BY_CODE: Readonly<Record<string, string>> = { BOOKINGS_TIME_ZONE_UNKNOWN: 'timeZone' };

/** The issue of an upstream refusal known by its `code` alone (`message`: the upstream's), else `undefined`. */
export function refusedFieldIssues(code: string, message: string): ValidationIssue[] | undefined {
  const field = FIELD_REFUSED_BY_CODE[code];
  return field === undefined ? undefined : [{ in: 'upstream', path: jsonPointer(field), message }];
}
