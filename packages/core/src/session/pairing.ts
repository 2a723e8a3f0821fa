import { PunchError } from '../errors.js';
import { sameIp } from '../net/ip.js';
import type { Endpoint } from '../wire/common.js';
import type { RemoteEndpoint } from '../wire/to-client.js';
import type { Conn } from './conn.js';
import type { SlotRef } from './slot-ref.js';
import type { Slot, StreamSlots } from './slots.js';
import type { RoomState } from './state.js';

/** What an `endpoint` message may say about a slot's UDP endpoints. */
export interface EndpointUpdate {
  public?: Endpoint;
  local?: Endpoint[];
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
  if (update.public !== undefined && !sameIp(update.public.ip, conn.ip)) {
    throw new PunchError(
      'ERR_ENDPOINT_MISMATCH',
      'the public IP must be the one this connection comes from',
    );
  }
  setEndpoint(room, ref.stream, slot, update);
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

/** One side of a pair: its connection, and the `remote` the other side is sent. */
interface PairSide {
  readonly conn: Conn;
  readonly remote: RemoteEndpoint;
}

/**
 * Both sides of a stream once each has a public endpoint, with a key for what `peer` carries:
 * an unchanged key means both sides already have the current pair. Undefined before that.
 *
 * @example
 * const s = room.slots.of('cam-wide');
 * const paired = readyPair(s)?.key === s.pairedKey; // both sides have the current pair
 */
export function readyPair(
  s: StreamSlots,
): { readonly key: string; readonly sender: PairSide; readonly receiver: PairSide } | undefined {
  const { sender, receiver } = s;
  if (sender?.public === undefined || receiver?.public === undefined) return undefined;
  return {
    key: JSON.stringify([sender.public, sender.local, receiver.public, receiver.local]),
    sender: { conn: sender.conn, remote: remoteOf(sender.public, sender.local) },
    receiver: { conn: receiver.conn, remote: remoteOf(receiver.public, receiver.local) },
  };
}

function setEndpoint(room: RoomState, stream: string, slot: Slot, update: EndpointUpdate): void {
  if (update.public !== undefined) slot.public = update.public;
  if (update.local !== undefined) slot.local = update.local;
  pairIfReady(room, stream);
  room.views.publish(stream); // an endpoint alone (no pair yet) also changes the view
}

/**
 * Sends `peer` to both sides in the same turn once both have a public endpoint, and again
 * whenever either side's endpoints change; an unchanged pair is not sent again.
 */
function pairIfReady(room: RoomState, stream: string): void {
  const s = room.slots.of(stream);
  const pair = readyPair(s);
  if (pair === undefined || s.pairedKey === pair.key) return;
  s.pairedKey = pair.key;
  const { passphrase, pbkeylen, latencyMs } = room.record;
  const base = { type: 'peer' as const, stream, passphrase, pbkeylen, latencyMs };
  pair.sender.conn.send({ ...base, role: 'sender', remote: pair.receiver.remote });
  pair.receiver.conn.send({ ...base, role: 'receiver', remote: pair.sender.remote });
  room.deps.onPaired?.();
  room.deps.log.info({ session: room.record.id, stream }, 'stream paired');
  room.views.publish(stream);
}

/** A side's endpoints as `peer.remote`: `local` only when there are local candidates. */
function remoteOf(pub: Endpoint, local: Endpoint[]): RemoteEndpoint {
  return local.length > 0 ? { ip: pub.ip, port: pub.port, local } : { ip: pub.ip, port: pub.port };
}
