/** Reading zod schemas (their defs) for what they accept: the XML codec and the user messages. Sandbox-safe. */

/** The zod def of a schema without its wrappers (optional, default, pipe, …). */
export function unwrapSchema(schema: unknown): { type: string; def: any } | undefined {
  let current: any = schema;
  for (let depth = 0; current && depth < 20; depth++) {
    const def = current._zod?.def;
    if (!def) return undefined;
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'catch':
      case 'readonly':
      case 'nonoptional':
        current = def.innerType;
        continue;
      case 'pipe':
        // A transform's input side says what the text must become.
        current = def.in._zod.def.type === 'transform' ? def.out : def.in;
        continue;
      case 'lazy':
        current = def.getter();
        continue;
      default:
        return { type: def.type, def };
    }
  }
  return undefined;
}
