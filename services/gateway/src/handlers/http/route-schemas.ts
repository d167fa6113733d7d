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

/** OpenAPI security requirement of school routes. */
export const schoolSecurity = [{ bearerAuth: [] }];

export const schoolIdParam = z.object({ schoolId: z.string().min(1).max(64) });
