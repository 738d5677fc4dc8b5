import { execFile } from 'node:child_process';
import type { V1Container, V1Probe } from '@kubernetes/client-node';

/** One probe attempt, run inside the pod's network namespace; resolves true on success. */
export type ProbeCheck = () => Promise<boolean>;

function exitsZero(file: string, args: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (err) => resolve(!err));
  });
}

function resolvePort(c: V1Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** Turns a probe spec into a check; undefined when the probe kind is not supported. */
export function probeCheck(netns: string, podIp: string, c: V1Container, probe: V1Probe): ProbeCheck | undefined {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  const inPod = (file: string, args: string[]) => exitsZero('ip', ['netns', 'exec', netns, file, ...args], timeoutMs + 500);
  if (probe.httpGet) {
    const port = resolvePort(c, probe.httpGet.port);
    if (port === undefined) return undefined;
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    const url = `${scheme}://${probe.httpGet.host ?? podIp}:${port}${probe.httpGet.path ?? '/'}`;
    // curl --fail treats 4xx/5xx as failure, as the kubelet does for >= 400.
    return () => inPod('curl', ['--silent', '--fail', '--insecure', '--output', '/dev/null', '--max-time', String(timeoutMs / 1000), url]);
  }
  if (probe.tcpSocket) {
    const port = resolvePort(c, probe.tcpSocket.port);
    if (port === undefined) return undefined;
    const host = probe.tcpSocket.host ?? podIp;
    return () => inPod('bash', ['-c', `exec 3<>/dev/tcp/${host}/${port}`]);
  }
  if (probe.exec?.command?.length) {
    const [file, ...args] = probe.exec.command;
    if (file === undefined) return undefined;
    return () => inPod(file, args);
  }
  return undefined;
}
