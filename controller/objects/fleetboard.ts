import { z } from 'zod';
import type { ObjectKind } from './decode.js';
import { condition, flag, int, list, objectMeta, optional, struct, timestamp } from './fields.js';

const tunnelCounters = { lastHandshake: optional(timestamp), rxBytes: optional(int), txBytes: optional(int) };

/**
 * peers.fleetboard.io Peer. Its CRD requires clusterID and clusterCIDR in a
 * spec, but not the spec; what the fields hold (a CIDR, a key) is checked by
 * checkPeer before anything is configured from another party's Peer.
 */
const peer = z.object({
  metadata: objectMeta,
  spec: optional(
    z.object({
      clusterID: z.string(),
      clusterCIDR: list(z.string()),
      endpoint: optional(z.string()),
      port: optional(int),
      publicKey: optional(z.string()),
      isHub: flag,
      isPublic: flag,
    }),
  ),
  status: struct({
    acceptedPublicKey: optional(z.string()),
    conditions: list(condition),
    tunnel: optional(
      z.object({
        gatewayNode: optional(z.string()),
        since: optional(timestamp),
        direct: list(z.object({ clusterID: z.string(), ...tunnelCounters })),
        mtu: optional(int),
        underlayMtu: optional(int),
        ...tunnelCounters,
      }),
    ),
  }),
});
export type Peer = z.output<typeof peer>;
export const PeerKind: ObjectKind<Peer> = { kind: 'Peer', schema: peer };

/** joinrequests.fleetboard.io JoinRequest; checkJoinRequest judges its spec. */
const joinRequest = z.object({
  metadata: objectMeta,
  spec: optional(z.object({ clusterID: z.string(), publicKey: z.string(), sessionKey: z.string() })),
  status: struct({
    phase: optional(z.string()),
    message: optional(z.string()),
    namespace: optional(z.string()),
    clusterCIDR: optional(z.string()),
    credentials: optional(z.object({ ciphertext: optional(z.string()), nonce: optional(z.string()), senderKey: optional(z.string()) })),
  }),
});
export type JoinRequest = z.output<typeof joinRequest>;
export const JoinRequestKind: ObjectKind<JoinRequest> = { kind: 'JoinRequest', schema: joinRequest };
