/** Free local ports for tests that start their own servers beside the shared stack. */
import { createServer } from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free ports on 127.0.0.1. Picked below the kernel's usual ephemeral range (32768+) so outgoing
 * connections are unlikely to take them between this check and the server's bind.
 */
export async function freePortBlock(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 15_000 + Math.floor(Math.random() * 15_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.map(isFree));
    if (free.every(Boolean)) return ports;
  }
  throw new Error(`no block of ${count} free ports found`);
}
