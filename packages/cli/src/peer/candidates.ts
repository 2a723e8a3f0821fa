import { networkInterfaces } from 'node:os';
import type { Endpoint } from '@punch/core';

/** At most this many LAN candidates (core's `endpoint.local` schema allows 8). */
const MAX_CANDIDATES = 8;

/**
 * This machine's LAN addresses with the media port: candidates for a peer behind the same NAT
 * (its probes reach them without a hairpin through the router). IPv4 only, as the media socket.
 */
export function lanCandidates(port: number): Endpoint[] {
  const out: Endpoint[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) out.push({ ip: a.address, port });
    }
  }
  return out.slice(0, MAX_CANDIDATES);
}
