/**
 * One line of `s3batch doctor`: what was checked, how it went, and for a failure the fix. Checks that depend on an
 * earlier one that failed are skipped (and say on which), so one cause gives one failure, not a cascade.
 */
export type CheckStatus = 'ok' | 'fail' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** What was found, in a few words (the line itself). */
  summary: string;
  /** For a failure: what to do about it. */
  fix?: string;
}

export const ok = (summary: string): CheckResult => ({ status: 'ok', summary });
export const fail = (summary: string, fix: string): CheckResult => ({ status: 'fail', summary, fix });
export const skip = (summary: string): CheckResult => ({ status: 'skip', summary });

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', fail: 'FAIL', skip: 'skip' };

export function formatCheck(check: CheckResult): string {
  const line = `${LABEL[check.status]}  ${check.summary}`;
  return check.fix ? `${line}\n      fix: ${check.fix.split('\n').join('\n           ')}` : line;
}

export function formatVerdict(checks: CheckResult[]): string {
  const failed = checks.filter((c) => c.status === 'fail').length;
  return failed === 0 ? `All ${checks.filter((c) => c.status === 'ok').length} checks passed.` : `${failed} of ${checks.length} checks failed.`;
}

/** An SDK or gRPC error in one line (name or code, and message). */
export function errorText(err: unknown): string {
  const e = err as { name?: string; Code?: string; message?: string };
  const name = e.Code ?? e.name;
  return `${name && name !== 'Error' ? `${name}: ` : ''}${e.message ?? String(err)}`.split('\n')[0]!;
}
