// Shapes of Segmind's answers. Every schema lets unknown fields through: Segmind adds fields freely.
import { z } from 'zod';

const metrics = z.record(z.unknown()).nullish();

/**
 * The submit answer. Only request_id is required: with it the job exists (and is billed), so
 * missing URLs are built from the base URL rather than losing the job (see SegmindClient.submit).
 */
export const submitAnswer = z
  .object({
    request_id: z.string().min(1),
    status_url: z.string().min(1).optional(),
    response_url: z.string().min(1).optional(),
    status: z.string().optional(),
  })
  .passthrough();

export const statusAnswer = z
  .object({
    status: z.string().min(1),
    request_id: z.string().optional(),
    error: z.unknown().optional(),
    metrics,
  })
  .passthrough();

export const resultAnswer = z
  .object({
    status: z.string().optional(),
    output: z.unknown().optional(),
    error: z.unknown().optional(),
    metrics,
  })
  .passthrough();

/** 422 body of a FAILED job (status and result endpoints) */
export const failedAnswer = z
  .object({
    status: z.string().optional(),
    error: z.unknown().optional(),
    metrics,
  })
  .passthrough();

export const uploadAnswer = z
  .object({
    urls: z.array(z.string()).optional(),
    file_urls: z.array(z.string()).optional(),
  })
  .passthrough();

/** Segmind's error field as text: a string, or JSON of whatever else it sent. */
export function errorToText(e: unknown): string | undefined {
  if (e === undefined || e === null || e === '') return undefined;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
