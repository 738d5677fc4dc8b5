/** Domain names as crossdns keeps them: lower case, no trailing dot. Pure. */

const LABEL = /^[a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9_])?$/;

/** Lower case without the trailing dot: the form every lookup uses. */
export function canonicalName(text: string): string {
  return text.trim().toLowerCase().replace(/\.$/, '');
}

/** A label of a name we publish: letters, digits, `-` and `_` (service-style labels), 1 to 63 long. */
export function isDnsLabel(label: string): boolean {
  return LABEL.test(label);
}

/** A canonical name of labels that `isDnsLabel` accepts, at most 253 characters. */
export function isDnsName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every(isDnsLabel);
}

/** Whether `name` is `zone` or lies below it; both canonical. */
export function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The label of an endpoint without hostname: its address with dots and colons as dashes, as CoreDNS names them. */
export function addressLabel(address: string): string {
  return address.replace(/[.:]/g, '-');
}
