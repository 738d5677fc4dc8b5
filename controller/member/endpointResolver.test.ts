import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointResolver } from './endpointResolver.js';

// The lookup is a table here: these tests are about when a name is looked up again, not about DNS.
function resolverWith(table: Map<string, string>) {
  let now = 0;
  const asked: string[] = [];
  const resolver = new EndpointResolver(
    (name) => {
      asked.push(name);
      const address = table.get(name);
      return address ? Promise.resolve(address) : Promise.reject(new Error(`${name}: ENOTFOUND`));
    },
    60_000,
    () => now,
  );
  return { resolver, asked, advance: (ms: number) => (now += ms) };
}

test('a name is looked up once, again after its address aged, and follows a moved address', async () => {
  const table = new Map([['hub.example', '198.18.0.21']]);
  const { resolver, asked, advance } = resolverWith(table);
  assert.deepEqual(await resolver.refresh(['hub.example', '198.18.0.30', 'hub.example']), []);
  assert.equal(resolver.address('hub.example'), '198.18.0.21');
  assert.equal(resolver.address('198.18.0.30'), '198.18.0.30', 'an address is its own answer');
  advance(59_000);
  await resolver.refresh(['hub.example']);
  assert.deepEqual(asked, ['hub.example'], 'no lookup while the address is fresh');
  table.set('hub.example', '198.18.0.22');
  advance(2_000);
  await resolver.refresh(['hub.example']);
  assert.equal(resolver.address('hub.example'), '198.18.0.22');
});

test('a name that stops resolving keeps its last address; one that never resolved is reported', async () => {
  const table = new Map([['hub.example', '198.18.0.21']]);
  const { resolver, advance } = resolverWith(table);
  await resolver.refresh(['hub.example']);
  table.delete('hub.example');
  advance(120_000);
  assert.deepEqual(await resolver.refresh(['hub.example', 'c2.example']), ['c2.example']);
  assert.equal(resolver.address('hub.example'), '198.18.0.21');
  assert.equal(resolver.address('c2.example'), undefined);
});
