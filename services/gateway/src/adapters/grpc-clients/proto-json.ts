import type { commonV1 } from '@isams-sync/grpc';
import { orNull, toNumber } from './upstream-call';

/** Parses a JSON object field of a proto message; anything else → null. */
export function jsonObject(json: string | null | undefined): Record<string, unknown> | null {
  if (json === null || json === undefined || json === '') return null;
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Proto PageInfo → API page info. */
export function pageInfo(p: commonV1.PageInfo__Output | null | undefined) {
  const total = p === null || p === undefined ? -1 : toNumber(p.totalSize);
  return { nextPageToken: orNull(p?.nextPageToken), totalSize: total < 0 ? null : total };
}

/** API paging → proto PageRequest (no token: the first page). */
export function pageRequest(p: { pageSize: number; pageToken?: string }): commonV1.PageRequest {
  return { pageSize: p.pageSize, pageToken: p.pageToken ?? '' };
}
