import assert from 'node:assert/strict';
import { test } from 'node:test';
import { helmJoinArgs, shellCommand } from './join.js';

const material = { clusterID: 'cluster1', hubURL: 'https://203.0.113.7:6443', caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', token: 'abcdef.0123456789abcdef' };

test('the join command sets the seed values, with the CA base64-encoded as hub.ca expects', () => {
  const args = helmJoinArgs(material, { chart: 'fleetboard/fleetboard-agent', namespace: 'fleetboard-system', extraSets: ['tunnel.endpoint=198.51.100.1'] });
  assert.deepEqual(args.slice(0, 7), ['upgrade', '--install', 'fleetboard-agent', 'fleetboard/fleetboard-agent', '--namespace', 'fleetboard-system', '--create-namespace']);
  const sets = args.flatMap((a, i) => (args[i - 1] === '--set' ? [a] : []));
  assert.deepEqual(sets, [
    'hub.hubURL=https://203.0.113.7:6443',
    'hub.bootstrapToken=abcdef.0123456789abcdef',
    `hub.ca=${Buffer.from(material.caPem).toString('base64')}`,
    'cluster.clusterID=cluster1',
    'tunnel.endpoint=198.51.100.1',
  ]);
});

test('the printed command can be pasted into a shell: one value per line, odd characters quoted', () => {
  const text = shellCommand(['helm', 'upgrade', '--set', 'a=b c', '--set', "it's=1"]);
  assert.equal(text, "helm upgrade \\\n    --set 'a=b c' \\\n    --set 'it'\\''s=1'");
});
