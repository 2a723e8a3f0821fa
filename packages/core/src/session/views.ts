import { coversStream } from '../permissions.js';
import type { TokenClaims } from '../token/claims.js';
import type { RelayMode, Tally, TallyOrigin } from '../wire/common.js';
import type { PresenceViewMessage, StreamViewMessage } from '../wire/to-client.js';
import type { StreamStateName } from '../wire/http.js';
import type { Conn } from './conn.js';
import type { SessionRecord } from './record.js';
import type { Slot, SlotTable, StreamSlots } from './slots.js';
import type { RoomState } from './state.js';
import { originFor, tallyFor, tallyMark } from './tally.js';

/** The dashboard's view of a session (`GET /api/session/:id`). */
export interface SessionViewData {
  session: string;
  createdAt: number;
  expiresAt: number;
  relay: RelayMode;
  tally: Tally;
  /** Admins only, once tally has been set. */
  tallyOrigin?: TallyOrigin;
  streams: StreamViewMessage[];
}

/**
 * One side of a stream as dashboards see it: held or not, with a public endpoint or not, and
 * the path its holder reports while reports keep coming.
 *
 * @example
 * presence(undefined, Date.now()); // { present: false, endpoint: false, path: null }
 */
export function presence(slot: Slot | undefined, now: number): PresenceViewMessage {
  return {
    present: slot !== undefined,
    endpoint: slot?.public !== undefined || slot?.relay !== undefined,
    path: slot?.health.liveness(now) ?? null,
  };
}

/**
 * Where a stream stands: `idle` (nobody), `waiting` (not yet paired), `paired`, `connected`
 * (a side reports a live direct or relayed path and media crossing it within the last 3 s) or
 * `no-signal` (a side reports a live path, and no side has reported media for 3 s: the encoder
 * stopped, or the decoder is gone). A live path without media for less than 3 s is still
 * `paired`. Reports from an agent that does not count media count as media (`SlotHealth`).
 *
 * @example
 * streamState(slots.of('cam-wide'), Date.now()); // 'no-signal' while the encoder is stopped
 */
export function streamState(s: StreamSlots, now: number): StreamStateName {
  if (s.sender === undefined && s.receiver === undefined) return 'idle';
  if (s.pairedKey === undefined) return 'waiting';
  const media = [s.sender?.health.media(now), s.receiver?.health.media(now)];
  if (media.includes('flowing')) return 'connected';
  return media.includes('quiet') ? 'no-signal' : 'paired';
}

/**
 * The `stream` view of one stream, as pushed to sockets and listed by `GET /api/session/:id`.
 *
 * @example
 * streamView('cam-wide', slots.of('cam-wide'), record.tally, Date.now()).state; // 'idle'
 */
export function streamView(
  name: string,
  s: StreamSlots,
  tally: Tally,
  now: number,
): StreamViewMessage {
  return {
    name,
    state: streamState(s, now),
    sender: presence(s.sender, now),
    receiver: presence(s.receiver, now),
    tally: tallyMark(tally, name),
    takeover: s.takeover ?? null,
  };
}

/**
 * The `stream` views of a session and what was last pushed of each, so that only changes go
 * out (presence, pairing, a path going live or silent, tally) and dashboards never poll.
 */
export class StreamViews {
  readonly #record: SessionRecord;
  readonly #slots: SlotTable;
  readonly #audience: ReadonlyMap<Conn, unknown>;
  readonly #now: () => number;
  /** The last view pushed per stream, as JSON. */
  readonly #published = new Map<string, string>();

  /** `audience`: the room's sockets; each gets the streams its token covers. */
  constructor(
    record: SessionRecord,
    slots: SlotTable,
    audience: ReadonlyMap<Conn, unknown>,
    now: () => number,
  ) {
    this.#record = record;
    this.#slots = slots;
    this.#audience = audience;
    this.#now = now;
  }

  view(name: string, now: number): StreamViewMessage {
    return streamView(name, this.#slots.of(name), this.#record.tally, now);
  }

  /** Pushes `stream` to every socket covering `name` when its view changed since the last push. */
  publish(name: string): void {
    const view = this.view(name, this.#now());
    const key = JSON.stringify(view);
    if (this.#published.get(name) === key) return;
    this.#published.set(name, key);
    for (const c of this.#audience.keys()) {
      if (coversStream(c.claims, name)) c.send({ type: 'stream', ...view });
    }
  }

  /** `publish` for every stream of the session. */
  publishAll(): void {
    for (const name of this.#record.streams) this.publish(name);
  }

  /**
   * Counts every stream's current view as pushed without sending it: a new room's sockets get
   * the views in `welcome`'s wake, and a resumed room's sockets had them before it was evicted.
   */
  markAllPublished(): void {
    const now = this.#now();
    for (const name of this.#record.streams) {
      this.#published.set(name, JSON.stringify(this.view(name, now)));
    }
  }
}

/**
 * The dashboard's view of the session; a peer sees only the streams its token covers.
 *
 * @example
 * return c.json(sessionView(room, claims));
 */
export function sessionView(room: RoomState, claims: TokenClaims): SessionViewData {
  const now = room.deps.now();
  return {
    session: room.record.id,
    createdAt: room.record.createdAt,
    expiresAt: room.record.expiresAt,
    relay: room.record.relay,
    tally: tallyFor(room.record.tally, claims),
    ...originFor(room.record, claims),
    streams: room.record.streams
      .filter((name) => coversStream(claims, name))
      .map((name) => room.views.view(name, now)),
  };
}
