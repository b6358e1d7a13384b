/**
 * Operations a worker's operator registers in TypeScript (beyond AWS). A job runs one with
 * `Operation: { CustomOperation: { Name, Parameters } }`; the worker checks the parameters with the operation's own
 * zod schema when the job starts (validateJob) and again for each task, so a handler always receives its schema's
 * output, while history keeps the job's parameters exactly as given.
 */
import type { z } from 'zod';
import { zodProblems, type SpecProblem } from '../../shared/problems';
import { CUSTOM_OPERATION_NAME, OPERATION_SCHEMAS, type OperationParams } from '../../schemas/operations';
import {
  TaskFailure,
  type OperationContext,
  type OperationErrorCodes,
  type OperationHandler,
  type OperationOutcome,
  type TaskObject,
} from './operation';

export interface CustomOperationDefinition<S extends z.ZodType = z.ZodType> {
  /** What jobs give as `Operation.CustomOperation.Name`. */
  name: string;
  /** Checks `Operation.CustomOperation.Parameters`; its output is what `run` receives. */
  parameters: S;
  /**
   * Acts on one object. Throw a TaskFailure to decide the outcome; S3 errors are classified as for built-in ones.
   * (Method syntax on purpose: a list of operations with different parameter types must still type-check.)
   */
  run(ctx: OperationContext, object: TaskObject, params: z.output<S>): Promise<OperationOutcome>;
  /** S3 codes this operation classifies differently from the common table. */
  errorCodes?: OperationErrorCodes;
}

/** Types a custom operation from its parameter schema (an identity function: the types are the point). */
export function defineOperation<S extends z.ZodType>(definition: CustomOperationDefinition<S>): CustomOperationDefinition<S> {
  return definition;
}

type CustomParams = OperationParams<'CustomOperation'>;

/** The custom operations of one worker, by name. */
export class CustomOperations {
  private readonly byName = new Map<string, CustomOperationDefinition>();

  /** Throws at worker start for a name jobs could not use, a built-in's name, or a name given twice. */
  constructor(definitions: readonly CustomOperationDefinition[] = []) {
    for (const definition of definitions) {
      const { name } = definition;
      if (!CUSTOM_OPERATION_NAME.test(name)) {
        throw new Error(`custom operation name "${name}" is not valid: use a letter, then letters, digits, ".", "_" or "-" (at most 128)`);
      }
      if (name in OPERATION_SCHEMAS) throw new Error(`custom operation name "${name}" is a built-in operation's name`);
      if (this.byName.has(name)) throw new Error(`custom operation "${name}" is registered twice`);
      this.byName.set(name, definition);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** What is wrong with a job's CustomOperation for this worker, paths as the job spec gives them; [] when fine. */
  problems(op: CustomParams): SpecProblem[] {
    const definition = this.byName.get(op.Name);
    if (!definition) return [{ path: 'Operation.CustomOperation.Name', message: this.unknownMessage(op.Name) }];
    const parsed = definition.parameters.safeParse(op.Parameters);
    if (parsed.success) return [];
    return zodProblems(parsed.error.issues, ['Operation', 'CustomOperation', 'Parameters']);
  }

  run: OperationHandler<CustomParams> = async (ctx, object, op) => {
    const definition = this.byName.get(op.Name);
    // validateJob checked both on the worker that started the job; a worker of the same queue without the
    // operation, or with a changed schema, fails the task and says so instead of guessing.
    if (!definition) throw new TaskFailure('UnknownOperation', this.unknownMessage(op.Name), false);
    const parsed = definition.parameters.safeParse(op.Parameters);
    if (!parsed.success) {
      const problems = this.problems(op).map((p) => `${p.path}: ${p.message}`);
      throw new TaskFailure('InvalidParameters', `this worker's ${op.Name} refuses the job's parameters: ${problems.join('; ')}`, false);
    }
    return definition.run(ctx, object, parsed.data);
  };

  errorCodes(name: string): OperationErrorCodes {
    return this.byName.get(name)?.errorCodes ?? {};
  }

  private unknownMessage(name: string): string {
    const known = this.names.length > 0 ? this.names.join(', ') : 'none';
    return `no custom operation "${name}" is registered in this worker (registered: ${known}); every worker of the task queue must register it`;
  }
}
