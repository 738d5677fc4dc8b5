import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveImage } from './images.js';

const tools = { coredns: '/bin/coredns', kubeProxy: '/bin/kube-proxy', node: '/bin/node', fleetboard: { 'fleetboard-plugin': '/dist/plugin/main.js' } };

test('nginx images serve the welcome page', () => {
  assert.deepEqual(resolveImage({ name: 'web', image: 'nginx:1.14.2' }, tools), { kind: 'nginx', port: 80 });
  assert.deepEqual(resolveImage({ name: 'web', image: 'docker.io/library/nginx@sha256:abc' }, tools), { kind: 'nginx', port: 80 });
});

test('shell images run the pod command, or idle', () => {
  assert.deepEqual(resolveImage({ name: 'c', image: 'alpine/curl' }, tools), { kind: 'exec', argv: ['sleep', 'infinity'] });
  assert.deepEqual(resolveImage({ name: 'c', image: 'busybox', command: ['sh', '-c'], args: ['echo hi'] }, tools), {
    kind: 'exec',
    argv: ['sh', '-c', 'echo hi'],
  });
  assert.deepEqual(resolveImage({ name: 'c', image: 'curlimages/curl', args: ['-s', 'x'] }, tools), { kind: 'exec', argv: ['curl', '-s', 'x'] });
});

test('tool images run the locally built binary with the pod arguments', () => {
  assert.deepEqual(resolveImage({ name: 'dns', image: 'registry.k8s.io/coredns/coredns:v1.14.7', args: ['-conf', '/etc/coredns/Corefile'] }, tools), {
    kind: 'exec',
    argv: ['/bin/coredns', '-conf', '/etc/coredns/Corefile'],
  });
  assert.deepEqual(resolveImage({ name: 'kp', image: 'registry.k8s.io/kube-proxy:v1.35.4', command: ['/usr/local/bin/kube-proxy', '--v=2'] }, tools), {
    kind: 'exec',
    argv: ['/bin/kube-proxy', '--v=2'],
  });
});

test('an unknown image is refused with the list of known ones', () => {
  const r = resolveImage({ name: 'x', image: 'redis:7' }, tools);
  assert.ok(r.kind === 'unknown');
  assert.match(r.message, /redis:7.*known: nginx/);
});

test('fleetboard commands run their compiled entry point with node', () => {
  assert.deepEqual(resolveImage({ name: 'plugin', image: 'ghcr.io/fleetboard-io/fleetboard:dev', command: ['fleetboard-plugin', '--interface=eth-fleet'] }, tools), {
    kind: 'exec',
    argv: ['/bin/node', '/dist/plugin/main.js', '--interface=eth-fleet'],
  });
  const r = resolveImage({ name: 'x', image: 'ghcr.io/fleetboard-io/fleetboard:dev', command: ['fleetctl'] }, tools);
  assert.equal(r.kind, 'unknown');
});
