import { isInitialOffer, type Envelope } from './envelope.js';

/**
 * Where an incoming envelope goes. A peer id may come back as a new page instance (a reload):
 * the new instance knows none of the old calls, so calls are named, and only the first offer of
 * a call (`initial: true`) may open one.
 *
 * - `deliver`: it is for the session's current call.
 * - `incoming`: a new call from a peer we have no session with: make one, emit `session`.
 * - `replace`: a new call from a peer we already have a session with (it reloaded, or called
 *   again): the old session ends, the new one is emitted.
 * - `adopt` / `ignore`: both sides called each other at once (two initial offers cross). The
 *   polite side drops its own call and answers the other one in the same Session; the impolite
 *   side ignores the other's offer and waits for its answer.
 * - `reset`: a description or candidate for a call we do not know: tell the sender, so the
 *   caller can start over with a fresh call.
 * - `drop`: a `bye` or `reset` for a call we do not know: nothing to do.
 */
export type Route = 'deliver' | 'incoming' | 'replace' | 'adopt' | 'ignore' | 'reset' | 'drop';

/** What routing needs to know of the session with the sender, if there is one. */
export interface RouteSession {
  readonly callId: string;
  /** We created its current call and no answer has arrived yet. */
  readonly awaitingAnswer: boolean;
}

/**
 * @example
 * route(envelope, sessions.get(from)?.routeState(), isPolite(local, from)); // 'deliver'
 */
export function route(e: Envelope, session: RouteSession | undefined, polite: boolean): Route {
  if (session !== undefined && e.call === session.callId) return 'deliver';
  if (isInitialOffer(e)) {
    if (session === undefined) return 'incoming';
    if (session.awaitingAnswer) return polite ? 'adopt' : 'ignore';
    return 'replace';
  }
  return e.kind === 'description' || e.kind === 'candidate' ? 'reset' : 'drop';
}
