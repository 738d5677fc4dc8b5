import { createServer, request, type Server } from 'node:http';
import { rm } from 'node:fs/promises';
import { TestbedError } from './testbed.js';

/** What a faults test can do to a running testbed: the parts a real cluster loses and gets back. */
export type ControlAction =
  | { kind: 'apiserver'; cluster: string; verb: 'stop' | 'start' }
  | { kind: 'nri-restart'; cluster: string; node: string };

/** `POST /clusters/<c>/apiserver/{stop,start}` or `POST /clusters/<c>/nodes/<n>/nri/restart`. Pure. */
export function parseControlPath(method: string, path: string): ControlAction | string {
  if (method !== 'POST') return `${method} is not supported; send POST`;
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  const [clusters, cluster, what, a, b, c] = parts;
  if (clusters !== 'clusters' || !cluster) return `unknown path ${path}`;
  if (what === 'apiserver' && (a === 'stop' || a === 'start') && parts.length === 4) return { kind: 'apiserver', cluster, verb: a };
  if (what === 'nodes' && a && b === 'nri' && c === 'restart' && parts.length === 6) return { kind: 'nri-restart', cluster, node: a };
  return `unknown path ${path}; want /clusters/<cluster>/apiserver/{stop,start} or /clusters/<cluster>/nodes/<node>/nri/restart`;
}

export function controlPath(action: ControlAction): string {
  const cluster = encodeURIComponent(action.cluster);
  return action.kind === 'apiserver' ? `/clusters/${cluster}/apiserver/${action.verb}` : `/clusters/${cluster}/nodes/${encodeURIComponent(action.node)}/nri/restart`;
}

/** The daemon's side: runs one action per request and answers 200, or 400/500 with the reason. */
export async function serveControl(socket: string, act: (action: ControlAction) => Promise<void>): Promise<Server> {
  await rm(socket, { force: true });
  const server = createServer((req, res) => {
    const action = parseControlPath(req.method ?? '', req.url ?? '');
    if (typeof action === 'string') {
      res.writeHead(400).end(action);
      return;
    }
    act(action).then(
      () => res.writeHead(200).end('ok'),
      (err: unknown) => res.writeHead(500).end(err instanceof Error ? err.message : String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  return server;
}

/** The tests' side: asks the running daemon for `action` and waits until it is done. */
export function testbedControl(socket: string, action: ControlAction, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: 'POST', path: controlPath(action), timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new TestbedError(`testbed ${controlPath(action)}: ${body}`))));
    });
    req.on('timeout', () => req.destroy(new TestbedError(`testbed ${controlPath(action)}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof TestbedError ? err : new TestbedError(`testbed ${controlPath(action)}: ${err.message}; is the testbed up?`)));
    req.end();
  });
}
