/** The shared stack's test Lambdas, invoked with the real AWS SDK Lambda client. */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { getStack, lambdaClient } from '../helpers/stack';

function json(payload: Uint8Array | undefined): unknown {
  return JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString('utf8'));
}

describe('shared stack: Lambda', () => {
  const clients: LambdaClient[] = [];
  const client = (name: string): LambdaClient => {
    const created = lambdaClient(getStack(), name);
    clients.push(created);
    return created;
  };
  afterAll(() => clients.forEach((c) => c.destroy()));

  it('invokes echo and returns the event', async () => {
    const event = { bucket: 'b', key: 'k/ü é.txt', n: 3, nested: { ok: true } };
    const out = await client('echo').send(new InvokeCommand({ FunctionName: 'function', Payload: Buffer.from(JSON.stringify(event)) }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(json(out.Payload)).toEqual({ echo: event });
  });

  it('accepts any function name in the path', async () => {
    const out = await client('echo').send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:echo', Payload: Buffer.from('{"x":1}') }));
    expect(json(out.Payload)).toEqual({ echo: { x: 1 } });
  });

  it('reports a thrown error as FunctionError Unhandled with its type and message', async () => {
    const out = await client('throws').send(new InvokeCommand({ FunctionName: 'function', Payload: Buffer.from(JSON.stringify({ message: 'bad object' })) }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(json(out.Payload)).toMatchObject({ errorType: 'FixtureError', errorMessage: 'bad object' });
  });
});
