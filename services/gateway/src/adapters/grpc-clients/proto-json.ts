import type { commonV1, UnaryMethod } from '@isams-sync/grpc';
import type { CallContext } from '../../domain/principal';
import { orNull, toNumber } from './upstream-call';
import type { UpstreamCaller } from './upstream-call';

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

/** The named optional strings of an API input as proto3 strings (proto3 has no absent string: ''). */
export function protoStrings<T extends Partial<Record<K, string>>, K extends string>(
  input: T,
  ...keys: K[]
): Record<K, string> {
  return Object.fromEntries(keys.map((k) => [k, input[k] ?? ''])) as Record<K, string>;
}

/**
 * One page of a list method: `paging` travels as the request's `page`, and the reply comes back
 * with its page as API page info.
 */
export async function callPage<
  Req extends { page?: commonV1.PageRequest | null },
  Res extends { page: commonV1.PageInfo__Output | null },
>(
  call: UpstreamCaller,
  method: UnaryMethod<Req, Res>,
  ctx: CallContext,
  paging: { pageSize: number; pageToken?: string },
  request: Omit<Req, 'page'>,
): Promise<{ reply: Res; page: ReturnType<typeof pageInfo> }> {
  const reply = await call(method, { ...request, page: pageRequest(paging) } as Req, ctx);
  return { reply, page: pageInfo(reply.page) };
}

/**
 * A list method whose API result names its items as the reply does (`events`, `runs`, …): one
 * {@link callPage}, the reply's `items` mapped to the API shape, with the page.
 */
export async function callList<
  Req extends { page?: commonV1.PageRequest | null },
  Res extends { page: commonV1.PageInfo__Output | null } & Record<K, readonly unknown[]>,
  K extends string,
  T,
>(
  call: UpstreamCaller,
  method: UnaryMethod<Req, Res>,
  ctx: CallContext,
  paging: { pageSize: number; pageToken?: string },
  request: Omit<Req, 'page'>,
  items: { key: K; map: (item: Res[K][number]) => T },
): Promise<Record<K, T[]> & { page: ReturnType<typeof pageInfo> }> {
  const { reply, page } = await callPage(call, method, ctx, paging, request);
  return { [items.key]: reply[items.key].map(items.map), page } as Record<K, T[]> & {
    page: ReturnType<typeof pageInfo>;
  };
}
