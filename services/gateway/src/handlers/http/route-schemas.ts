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

/** What a school route declares of its own: its request parts and its success response(s). */
export interface SchoolRouteSchema {
  description?: string;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  response: Record<number, unknown>;
}

/**
 * The route options of a school route: its OpenAPI basics (tags, summary, the school admin's bearer
 * credential), its own `schema` and, beside its success response(s), the {@link schoolErrorResponses}.
 */
export function schoolRoute<const S extends SchoolRouteSchema>(
  tags: string[],
  summary: string,
  schema: S,
): {
  schema: Omit<S, 'response'> & {
    tags: string[];
    summary: string;
    security: typeof schoolSecurity;
    response: S['response'] & typeof schoolErrorResponses;
  };
} {
  return {
    schema: {
      tags,
      summary,
      security: schoolSecurity,
      ...schema,
      response: { ...schema.response, ...schoolErrorResponses },
    },
  };
}

export const schoolIdParam = z.object({ schoolId: z.string().min(1).max(64) });

/** The path parameters of a route under one sync run. */
export const runParams = schoolIdParam.extend({ syncRunId: z.string().min(1).max(128) });
