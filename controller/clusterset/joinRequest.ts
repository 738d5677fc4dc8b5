import type { JoinRequest } from '../objects/fleetboard.js';
import { isValidKey } from '../wireguard/keys.js';
import { clusterIdProblem } from './peer.js';
import type { SealedBox } from './sealedBox.js';

/**
 * `joinrequests.fleetboard.io/v1alpha1`, cluster-scoped, named after the
 * cluster ID: what a member creates in the hub with its bootstrap token. The
 * hub answers in the status; the name makes a second request for a taken ID
 * fail at create time.
 */
export const JOIN_REQUEST_PLURAL = 'joinrequests';
export const JOIN_REQUEST_KIND = 'JoinRequest';

export interface JoinRequestSpec {
  clusterID: string;
  /** WireGuard public key of the member's gateway. */
  publicKey: string;
  /** One-time public key the hub seals the member's credentials to. */
  sessionKey: string;
}

export type JoinPhase = 'Approved' | 'Refused';

export interface JoinRequestStatus {
  phase?: JoinPhase;
  message?: string;
  /** The member's namespace in the hub. */
  namespace?: string;
  clusterCIDR?: string;
  /** The member's ServiceAccount token, sealed to `spec.sessionKey`. */
  credentials?: SealedBox;
}

/** The request's spec if it can be acted on, else the reason to refuse it. Pure. */
export function checkJoinRequest(req: JoinRequest): JoinRequestSpec | string {
  const spec = req.spec;
  if (!spec) return 'the request has no spec';
  const idProblem = clusterIdProblem(spec.clusterID);
  if (idProblem) return idProblem;
  if (req.metadata.name !== spec.clusterID) return `the request must be named after its cluster ID "${spec.clusterID}" (it is named "${req.metadata.name}")`;
  if (!isValidKey(spec.publicKey)) return 'spec.publicKey is not a WireGuard public key (32 bytes, base64)';
  if (!isValidKey(spec.sessionKey)) return 'spec.sessionKey is not a 32-byte base64 key';
  return { clusterID: spec.clusterID, publicKey: spec.publicKey, sessionKey: spec.sessionKey };
}
