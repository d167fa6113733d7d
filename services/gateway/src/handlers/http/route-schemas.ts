import { z } from 'zod';
import { errorBodySchema } from '../../domain/models/common.models';

/** Error responses every authenticated school route may give (documented in OpenAPI). */
export const schoolErrorResponses = {
  400: errorBodySchema,
  401: errorBodySchema,
  404: errorBodySchema,
  409: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  429: errorBodySchema,
  500: errorBodySchema,
  503: errorBodySchema,
  504: errorBodySchema,
} as const;

/** A list route's query paging as the gateways take it (no token: the first page). */
export function queryPaging(q: { pageSize: number; pageToken?: string | undefined }): {
  pageSize: number;
  pageToken?: string;
} {
  return { pageSize: q.pageSize, ...(q.pageToken === undefined ? {} : { pageToken: q.pageToken }) };
}

/** OpenAPI security requirement of school routes. */
export const schoolSecurity = [{ bearerAuth: [] }];

/** The OpenAPI basics of a school route: its tags, its summary and the school admin's bearer credential. */
export const schoolRoute = (tags: string[], summary: string) => ({ tags, summary, security: schoolSecurity });

export const schoolIdParam = z.object({ schoolId: z.string().min(1).max(64) });
