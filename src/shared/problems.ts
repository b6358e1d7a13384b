/** A problem found in user input: where (dotted path) and what. Sandbox-safe. */
export interface SpecProblem {
  path: string;
  message: string;
}

export function formatProblems(problems: SpecProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}
