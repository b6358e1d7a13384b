/**
 * A Toxiproxy server on loopback for one test run, driven through its HTTP API: TCP proxies with toxics (latency,
 * timeout, reset_peer) between the workers and MinIO. Built by scripts/tools/toxiproxy.ts on first use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cachePaths, toolCacheDir } from '../../scripts/tools/cache';
import { ensureToxiproxy } from '../../scripts/tools/toxiproxy';
import { freePortBlock } from './ports';

export interface Toxic {
  name: string;
  type: 'latency' | 'timeout' | 'reset_peer' | 'bandwidth' | 'slow_close' | 'limit_data';
  stream?: 'upstream' | 'downstream';
  toxicity?: number;
  attributes: Record<string, number>;
}

export interface Toxiproxy {
  /** A proxy listening on a free loopback port in front of `upstream` (host:port); returns its listen address. */
  proxy(name: string, upstream: string): Promise<string>;
  addToxic(proxy: string, toxic: Toxic): Promise<void>;
  removeToxic(proxy: string, toxic: string): Promise<void>;
  close(): Promise<void>;
}

export async function startToxiproxy(): Promise<Toxiproxy> {
  const binary = await ensureToxiproxy(cachePaths(toolCacheDir()));
  const [apiPort = 0, ...listenPorts] = await freePortBlock(4);
  const child: ChildProcess = spawn(binary, ['-host', '127.0.0.1', '-port', String(apiPort)], { stdio: 'ignore' });
  const api = `http://127.0.0.1:${apiPort}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${await res.text()}`);
  };
  for (let i = 0; ; i++) {
    const up = await fetch(`${api}/version`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`toxiproxy did not start on ${api}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async proxy(name, upstream) {
      const listen = `127.0.0.1:${listenPorts.shift()}`;
      await call('POST', '/proxies', { name, listen, upstream, enabled: true });
      return listen;
    },
    addToxic: (proxy, toxic) => call('POST', `/proxies/${proxy}/toxics`, { stream: 'downstream', toxicity: 1, ...toxic }),
    removeToxic: (proxy, toxic) => call('DELETE', `/proxies/${proxy}/toxics/${toxic}`),
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}
