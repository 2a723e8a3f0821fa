import { peerKey, type PeerRef } from './ids.js';

/**
 * Which side of a pair is "polite" in perfect negotiation
 * (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): the polite side rolls back its
 * own offer when offers collide, the impolite one ignores the incoming offer. Both sides must
 * agree without talking, so the choice depends only on the two ids: the side whose
 * `group/peer` sorts after the other's is polite.
 *
 * @example
 * isPolite({ group: 'g', peer: 'bob' }, { group: 'g', peer: 'alice' }); // true
 * isPolite({ group: 'g', peer: 'alice' }, { group: 'g', peer: 'bob' }); // false
 */
export function isPolite(local: PeerRef, remote: PeerRef): boolean {
  // Plain code-unit comparison, not localeCompare: ids are ASCII and the order must not depend
  // on either browser's locale.
  return peerKey(local) > peerKey(remote);
}
