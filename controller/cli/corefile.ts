/**
 * Cluster DNS must forward the clusterset zones to crossdns. These read and
 * write the CoreDNS Corefile stanzas that do it. Pure.
 */

/** The server blocks the README has users add to kube-system/coredns. */
export function forwardingStanzas(zones: readonly string[], crossdnsIp: string): string {
  return zones.map((z) => `${z}:53 {\n    errors\n    forward . ${crossdnsIp}\n}\n`).join('');
}

/**
 * Per zone a Corefile's server blocks serve (`zone`, `zone:53`, `dns://zone`),
 * the upstreams their `forward .` sends queries to. Nested blocks (plugin
 * options) are skipped over; comments are ignored.
 */
export function forwardedZones(corefile: string): Map<string, string[]> {
  const text = corefile.replace(/#.*$/gm, '');
  const out = new Map<string, string[]>();
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    if (open < 0) break;
    const keys = text.slice(i, open).trim().split(/[\s,]+/).filter(Boolean);
    let depth = 1;
    let j = open + 1;
    for (; j < text.length && depth > 0; j += 1) {
      if (text[j] === '{') depth += 1;
      else if (text[j] === '}') depth -= 1;
    }
    const body = text.slice(open + 1, j - 1);
    const upstreams = [...body.matchAll(/^\s*forward\s+\.\s+([^{\n]+)/gm)].flatMap((m) => (m[1] ?? '').trim().split(/\s+/));
    for (const key of keys) {
      const zone = key.replace(/^dns:\/\//, '').replace(/:53$/, '').replace(/(.)\.$/, '$1');
      out.set(zone, [...(out.get(zone) ?? []), ...upstreams]);
    }
    i = j;
  }
  return out;
}
