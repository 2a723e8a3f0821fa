import { PunchError } from '../errors.js';
import { sameIp } from '../net/ip.js';
import { isLocalAddress } from '../net/local.js';
import type { Endpoint, RelayMode } from '../wire/common.js';
import type { RemoteEndpoint } from '../wire/to-client.js';
import type { Conn } from './conn.js';
import type { SlotRef } from './slot-ref.js';
import { streamPassphrase } from './record.js';
import type { Slot, StreamSlots } from './slots.js';
import type { RoomState } from './state.js';

/** What an `endpoint` message may say about a slot's UDP endpoints. */
export interface EndpointUpdate {
  public?: Endpoint;
  local?: Endpoint[];
  /** The side's relayed address on a TURN server (the relay's IP: no check against the socket's). */
  relay?: Endpoint;
}

/**
 * Endpoints claimed by the holder of a slot (ERR_NOT_REGISTERED otherwise), for hosts without
 * STUN. A claimed public endpoint must come from the address the socket itself came from;
 * otherwise anyone holding a token could point a peer's media at a third party.
 *
 * @example
 * claimEndpoint(room, conn, { stream: 'cam-wide', role: 'sender' }, {
 *   public: { ip: conn.ip, port: 4000 },
 * });
 */
export function claimEndpoint(
  room: RoomState,
  conn: Conn,
  ref: SlotRef,
  update: EndpointUpdate,
): void {
  const slot = room.slots.held(conn, ref);
  // A relayed address Punch's own relay can vouch for must be one of its allocations for this
  // session: else any socket could make Punch hand the other side (and its relay credentials)
  // a third party's address.
  if (
    update.relay !== undefined &&
    room.deps.relayHolds?.(room.record.id, update.relay) === false
  ) {
    throw new PunchError(
      'ERR_ENDPOINT_MISMATCH',
      "the relayed address must be an allocation of this session's on the relay",
    );
  }
  if (update.public !== undefined && !sameIp(update.public.ip, conn.ip)) {
    throw new PunchError(
      'ERR_ENDPOINT_MISMATCH',
      'the public IP must be the one this connection comes from',
    );
  }
  // LAN candidates are for peers behind the same NAT: only private, link-local and loopback
  // addresses. A public one is dropped (not refused: an honest agent on a machine with a public
  // address on an interface lists it too, and its other candidates still count), so no socket
  // can make the other side's agent probe an internet host of its choosing.
  const local = update.local?.filter((e) => isLocalAddress(e.ip));
  setEndpoint(room, ref.stream, slot, local === undefined ? update : { ...update, local });
}

/**
 * A STUN Binding request arrived with a username handed out by this room: the source address
 * it came from is the slot's public endpoint. A username no longer holding the slot is ignored.
 *
 * @example
 * const target = bindings.get(username); // from a STUN Binding request's USERNAME
 * if (target !== undefined) observe(room, username, target, { ip, port });
 */
export function observe(room: RoomState, username: string, ref: SlotRef, endpoint: Endpoint): void {
  const slot = room.slots.at(ref);
  if (slot?.username !== username) return;
  const p = slot.public;
  if (p?.ip === endpoint.ip && p.port === endpoint.port) return;
  setEndpoint(room, ref.stream, slot, { public: endpoint });
}

/** One side of a pair: its slot, and the `remote` the other side is sent. */
interface PairSide {
  readonly slot: Slot;
  readonly remote: RemoteEndpoint;
}

/**
 * Both sides of a stream once each can be reached, with a key for what `peer` carries: an
 * unchanged key means both sides already have the current pair. Undefined before that. In
 * `auto` a side is reachable by its public endpoint or its relayed address; in `always` (IP
 * privacy) only by its relayed address, and its public and LAN endpoints are never sent.
 *
 * @example
 * const s = room.slots.of('cam-wide');
 * const paired = readyPair(s, 'auto')?.key === s.pairedKey; // both sides have the current pair
 */
export function readyPair(
  s: StreamSlots,
  mode: RelayMode,
): { readonly key: string; readonly sender: PairSide; readonly receiver: PairSide } | undefined {
  const { sender, receiver } = s;
  if (sender === undefined || receiver === undefined) return undefined;
  const toSender = remoteOf(receiver, mode);
  const toReceiver = remoteOf(sender, mode);
  if (toSender === undefined || toReceiver === undefined) return undefined;
  return {
    key: JSON.stringify([toSender, toReceiver]),
    sender: { slot: sender, remote: toSender },
    receiver: { slot: receiver, remote: toReceiver },
  };
}

/**
 * Every address handed to the socket `connId` in `peer`, over the slots it holds: what a
 * session's relay credentials may reach on Punch's own relay.
 *
 * @example
 * handedTo(room, conn.id); // [{ ip: '203.0.113.7', port: 40000 }, …]
 */
export function handedTo(room: RoomState, connId: string): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [conn, state] of room.conns) {
    if (conn.id !== connId) continue;
    for (const ref of state.slots) {
      const slot = room.slots.at(ref);
      if (slot?.conn === conn) out.push(...slot.handed);
    }
  }
  return out;
}

/**
 * The addresses a `peer.remote` hands its recipient.
 *
 * @example
 * handedOf({ ip: '203.0.113.7', port: 40000 }); // [{ ip: '203.0.113.7', port: 40000 }]
 */
export function handedOf(remote: RemoteEndpoint): Endpoint[] {
  const out = [{ ip: remote.ip, port: remote.port }, ...(remote.local ?? [])];
  if (remote.relay !== undefined) out.push(remote.relay);
  return out;
}

function setEndpoint(room: RoomState, stream: string, slot: Slot, update: EndpointUpdate): void {
  if (update.public !== undefined) slot.public = update.public;
  if (update.local !== undefined) slot.local = update.local;
  if (update.relay !== undefined) slot.relay = update.relay;
  pairIfReady(room, stream);
  room.views.publish(stream); // an endpoint alone (no pair yet) also changes the view
}

/**
 * Sends `peer` to both sides in the same turn once both have a public endpoint, and again
 * whenever either side's endpoints change; an unchanged pair is not sent again.
 */
function pairIfReady(room: RoomState, stream: string): void {
  const s = room.slots.of(stream);
  const pair = readyPair(s, room.record.relay);
  if (pair === undefined || s.pairedKey === pair.key) return;
  s.pairedKey = pair.key;
  const { pbkeylen, latencyMs } = room.record;
  const passphrase = streamPassphrase(room.record, stream);
  const base = { type: 'peer' as const, stream, passphrase, pbkeylen, latencyMs };
  for (const side of [pair.sender, pair.receiver]) {
    side.slot.handed = handedOf(side.remote);
    const role = side === pair.sender ? 'sender' : 'receiver';
    side.slot.conn.send({ ...base, role, remote: side.remote });
  }
  room.deps.onPaired?.();
  room.deps.log.info({ session: room.record.id, stream }, 'stream paired');
  room.views.publish(stream);
}

/**
 * A side's endpoints as the other side's `peer.remote`, or undefined when it cannot be reached
 * yet: `ip`/`port` its public endpoint (else its relayed address), `local` only when it has LAN
 * candidates, `relay` once it relays. In `always` mode: the relayed address alone.
 */
function remoteOf(side: Slot, mode: RelayMode): RemoteEndpoint | undefined {
  const relay = side.relay;
  if (mode === 'always') return relay === undefined ? undefined : { ...relay, relay };
  const first = side.public ?? relay;
  if (first === undefined) return undefined;
  const remote: RemoteEndpoint = { ip: first.ip, port: first.port };
  if (side.public !== undefined && side.local.length > 0) remote.local = side.local;
  if (relay !== undefined) remote.relay = relay;
  return remote;
}
