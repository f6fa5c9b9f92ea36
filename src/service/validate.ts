import type { z } from 'zod';
import { InvalidInputError } from '../domain/errors';
import { describeIssues } from '../domain/schemas';

/** Parses input at a boundary; a failure names every wrong field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(describeIssues(result.error));
  return result.data;
}
