import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AggregatedService } from './aggregate.js';
import { placeImports } from './importPlacement.js';

const service = (namespace: string, name: string, dnsNames?: string): AggregatedService => ({ namespace, name, spec: { type: 'ClusterSetIP', ports: [] }, labels: {}, annotations: {}, clusters: ['cluster1'], conflicts: [], ...(dnsNames ? { dnsNames } : {}) });

test('a service is imported into its own namespace where that exists, and otherwise only when it has names of its own', () => {
  const placed = placeImports([service('default', 'web'), service('shop', 'cart'), service('shop', 'api', 'api.shared.example')], new Set(['default']), 'fleetboard-system');
  assert.deepEqual(
    placed.map((p) => [p.namespace, p.name, p.at.namespace, p.at.name]),
    [
      ['default', 'web', 'default', 'web'],
      ['shop', 'api', 'fleetboard-system', 'api.shop'],
    ],
  );
});
