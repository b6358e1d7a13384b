import type { $ZodIssue } from 'zod/v4/core';
// Side effect: user-facing messages for every zod issue (see there).
import './zod-messages';

/** A problem found in user input: where (dotted path) and what. Sandbox-safe. */
export interface SpecProblem {
  path: string;
  message: string;
}

export function formatProblems(problems: SpecProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}

/** A zod issue path as users write it: `Operation.S3PutObjectTagging.TagSet[0].Key`. */
export function problemPath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : String(part))).join('.').replace(/\.\[/g, '[');
}

/**
 * Zod issues as problems, under `prefix`. A record key or map element that fails has its own issues inside
 * ("Invalid key in record" says nothing of why): those are what the user needs to read.
 */
export function zodProblems(issues: readonly $ZodIssue[], prefix: readonly PropertyKey[] = []): SpecProblem[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if ((issue.code === 'invalid_key' || issue.code === 'invalid_element') && issue.issues.length > 0) {
      const what = issue.code === 'invalid_key' ? 'key' : 'value';
      return zodProblems(issue.issues, path).map((p) => ({ ...p, message: `${what}: ${p.message}` }));
    }
    return [{ path: problemPath(path), message: issue.message }];
  });
}
