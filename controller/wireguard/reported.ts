/**
 * Reading values a device reports (UAPI replies, `wg show dump`), which we
 * treat as untrusted text: callers turn undefined into their MALFORMED error.
 */
import { formatCidr, parseCidr } from '../ipam/cidr.js';

/** A count such as a byte counter or a port; undefined unless it is plain digits. */
export function wholeNumber(text: string): number | undefined {
  return /^\d{1,20}$/.test(text) ? Number(text) : undefined;
}

/** IPv4 CIDRs in canonical form; IPv6 ones (configured by someone else) kept as written; undefined for anything else. */
export function reportedCidr(text: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(text)) return undefined;
  try {
    return formatCidr(parseCidr(text));
  } catch {
    return text;
  }
}
