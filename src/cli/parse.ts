/**
 * Argument parsers for commander, each backed by a zod schema so the rule lives in one place; a bad value becomes
 * commander's InvalidArgumentError, which names the option and the value and exits with the bad-input code.
 */
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
// Side effect: user-facing messages for every zod issue (see there).
import '../shared/zod-messages';
import { MAX_TASKS_PER_SECOND_LIMIT, MaxTasksPerSecond } from '../schemas/job-spec';

/** A commander argParser that validates (and converts) with a zod schema, reporting its first issue. */
export function zodParser<T>(schema: z.ZodType<T>, expected: string): (value: string) => T {
  return (value: string) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(`expected ${expected} (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    return parsed.data;
  };
}

/** Job ids are Temporal workflow ids: any non-blank text, at most 1000 characters. */
export const JobIdArg = z.string().trim().min(1, 'empty').max(1000);
export const parseJobId = zodParser(JobIdArg, 'a job id');

/** The schema's own bounds for Priority (0 to 2^31-1). */
export const PriorityArg = z.string().regex(/^\d+$/, 'not a whole number').transform(Number).pipe(z.number().int().min(0).max(2_147_483_647));
export const parsePriority = zodParser(PriorityArg, 'a whole number from 0 to 2147483647');

/** A rate limit in tasks per second: the schema's own bounds (Extensions.MaxTasksPerSecond). */
export const RateArg = z.string().regex(/^\d+(\.\d+)?$/, 'not a number').transform(Number).pipe(MaxTasksPerSecond);
export const parseRate = zodParser(RateArg, `a number of tasks per second from 0.001 to ${MAX_TASKS_PER_SECOND_LIMIT}`);
/** update-job-rate's argument: a rate, or `none` to remove the limit. */
export const parseRateOrNone = zodParser(
  z.union([z.literal('none').transform(() => null), RateArg]),
  `a number of tasks per second from 0.001 to ${MAX_TASKS_PER_SECOND_LIMIT}, or none`
);

export function positiveInt(max: number) {
  return zodParser(z.string().regex(/^\d+$/, 'not a whole number').transform(Number).pipe(z.number().int().min(1).max(max)), `a whole number from 1 to ${max}`);
}

export const parseNonNegativeInt = zodParser(
  z.string().regex(/^\d+$/, 'not a whole number').transform(Number).pipe(z.number().int().min(0)),
  'a whole number (0 or more)'
);

/** A repeatable option: each value appended to the previous ones. */
export function collect<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}
