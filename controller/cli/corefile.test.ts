import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardedZones, forwardingStanzas } from './corefile.js';

test('forwarded zones: server blocks with their upstreams, nested plugin blocks and comments skipped', () => {
  const corefile = `.:53 {
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
    }
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
}
# hyperos.local:53 { forward . 10.0.0.1 }
clusterset.local:53 {
    errors
    forward . 10.96.0.11
}
dns://hyperos.local. example.org {
    forward . 10.96.0.12 10.96.0.13
}
`;
  const zones = forwardedZones(corefile);
  assert.deepEqual(Object.fromEntries(zones), {
    '.': ['/etc/resolv.conf'],
    'clusterset.local': ['10.96.0.11'],
    'hyperos.local': ['10.96.0.12', '10.96.0.13'],
    'example.org': ['10.96.0.12', '10.96.0.13'],
  });
});

test('the stanzas users add are read back as forwarding to crossdns', () => {
  const zones = forwardedZones(forwardingStanzas(['clusterset.local', 'hyperos.local'], '10.96.0.11'));
  assert.deepEqual(Object.fromEntries(zones), { 'clusterset.local': ['10.96.0.11'], 'hyperos.local': ['10.96.0.11'] });
});
