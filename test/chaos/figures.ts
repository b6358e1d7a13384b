/** What a chaos run must show, and its figures as lines for people. Shared by `npm run chaos` and the jest test. */
import type { ChaosFigures } from './run-chaos';

/** The promises a chaos run checks; each broken one is a line saying how. */
export function brokenPromises(f: ChaosFigures, expectedFailures: number): string[] {
  const broken: string[] = [];
  if (f.status !== 'Complete') broken.push(`status is ${f.status}, not Complete`);
  if (f.succeeded + f.failed !== f.rows) broken.push(`succeeded + failed = ${f.succeeded + f.failed}, not the manifest's ${f.rows} rows`);
  if (f.failed !== expectedFailures) broken.push(`${f.failed} tasks failed; only the ${expectedFailures} missing keys should`);
  if (f.reportRows !== f.rows) broken.push(`the report has ${f.reportRows} rows for ${f.rows} manifest rows`);
  if (f.duplicateReportRows !== 0) broken.push(`${f.duplicateReportRows} rows appear more than once in the report`);
  if (f.unreportedRows !== 0) broken.push(`${f.unreportedRows} rows are missing from the report or not in the manifest`);
  if (f.stateMismatches !== 0) broken.push(`${f.stateMismatches} objects' tags disagree with their report rows`);
  return broken;
}

export function formatFigures(f: ChaosFigures): string {
  const faults = Object.entries(f.injectedFaults)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const crashes = Object.entries(f.temporalCrashes)
    .map(([target, n]) => `${target} ${n}`)
    .join(', ');
  return [
    `status              ${f.status} in ${f.seconds} s`,
    `tasks               ${f.rows} (succeeded ${f.succeeded}, failed ${f.failed})`,
    `worker kills        ${f.workerKills} (worker starts ${f.workerStarts})`,
    `Temporal crashes    ${crashes || 'none'} (SIGKILL, then start)`,
    `injected S3 faults  ${faults || 'none'}`,
    `repeated requests   ${f.repeatedRequests} (task calls beyond one per row: retries and work redone after kills)`,
    `report rows         ${f.reportRows}, duplicates ${f.duplicateReportRows}, lost ${f.unreportedRows}`,
    `state mismatches    ${f.stateMismatches}`,
  ].join('\n');
}
