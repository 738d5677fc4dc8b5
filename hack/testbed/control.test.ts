import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlPath, parseControlPath, type ControlAction } from './control.js';

test('control paths round-trip, and anything else is refused with the paths that exist', () => {
  const actions: ControlAction[] = [
    { kind: 'apiserver', cluster: 'hub', verb: 'stop' },
    { kind: 'apiserver', cluster: 'cluster1', verb: 'start' },
    { kind: 'nri-restart', cluster: 'cluster2', node: 'cluster2-node2' },
  ];
  for (const a of actions) assert.deepEqual(parseControlPath('POST', controlPath(a)), a);
  assert.equal(parseControlPath('GET', '/clusters/hub/apiserver/stop'), 'GET is not supported; send POST');
  for (const bad of ['/clusters/hub/apiserver/restart', '/clusters//apiserver/stop', '/nodes/x', '/clusters/hub/nodes/n1/nri', '/clusters/hub/apiserver/stop/now']) {
    const refusal = parseControlPath('POST', bad);
    assert.ok(typeof refusal === 'string' && refusal.startsWith(`unknown path ${bad}`), bad);
  }
});
