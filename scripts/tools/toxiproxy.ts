/**
 * Toxiproxy, the TCP fault proxy of the chaos run (latency, connections cut, data stopped until a timeout); the stack
 * and most tests do not need it. Built once into `<cache>/bin/toxiproxy-server` on first use. v2.5.0 is the newest
 * version the module proxy here serves.
 */
import type { CachePaths } from './cache';
import type { GoTool } from './go-tools';
import { ensureRenamedGoTool } from './renamed-go-tool';

export const TOXIPROXY: GoTool = {
  name: 'toxiproxy-server',
  pkg: 'github.com/Shopify/toxiproxy/v2/cmd/server',
  module: 'github.com/Shopify/toxiproxy/v2',
  version: 'v2.5.0',
};

export function ensureToxiproxy(paths: CachePaths): Promise<string> {
  return ensureRenamedGoTool(paths, TOXIPROXY, { expectedTime: 'a minute or two', timeoutMs: 20 * 60_000 });
}
