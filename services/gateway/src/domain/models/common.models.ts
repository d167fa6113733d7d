import { z } from 'zod';

/** The error body of every failed API call. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable, machine-readable code, e.g. GATEWAY_UNAUTHENTICATED'),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      requestId: z.string().describe('Also in the x-request-id response header; quote it to support'),
    }),
  })
  .meta({ id: 'ErrorBody' });

/** A school id in a path; must be the caller's own school. */
export const schoolParamsSchema = z.object({
  schoolId: z.string().min(1).max(64).describe("The caller's school (tenant) id"),
});

/** Cursor paging query. */
export const pageQuerySchema = z.object({
  pageSize: z.coerce.number().int().min(1).max(200).default(25),
  pageToken: z.string().max(512).optional(),
});

/** Cursor paging output. */
export const pageInfoSchema = z.object({
  nextPageToken: z.string().nullable(),
  totalSize: z.number().int().nullable(),
});
