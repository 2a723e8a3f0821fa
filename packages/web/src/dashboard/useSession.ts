import type { ParsedServerMessage, TallyOrigin } from '@punch/core';
import { useEffect, useRef, useState } from 'preact/hooks';
import { assess, takeoverText, type Assessment } from '../lib/alerts.js';
import { ApiError, api, explain, type StreamViewData } from '../lib/api.js';
import { SessionFeed, viewOf, type FeedStatus } from '../lib/feed.js';
import { HealthSeries } from '../lib/health.js';
import { nextTally, type Tally } from '../lib/tally.js';
import { tokens } from '../lib/token.js';

export interface Alert {
  id: number;
  stream: string;
  level: 'warning' | 'critical' | 'info';
  text: string;
  at: number;
}

export type { Tally };

export interface SessionState {
  token: string;
  status: FeedStatus;
  /** Why the feed ended (closed, expired, token no longer valid). */
  ended: string | null;
  /** The first load failed: why, and whether retrying can help (not for a refused token). */
  loadError: { message: string; final: boolean } | null;
  expiresAt: number | null;
  /** The session's relay mode (`always`: IP privacy), once loaded. */
  relay: 'auto' | 'always' | null;
  streams: StreamViewData[];
  tally: Tally;
  /** Who set tally last (a bridge's switcher, or null: by hand) and when; null before any. */
  tallyOrigin: TallyOrigin | null;
  health: ReadonlyMap<string, HealthSeries>;
  /** Bumped on every health sample so charts redraw. */
  healthVersion: number;
  alerts: Alert[];
  conditions: ReadonlyMap<string, Assessment>;
}

/**
 * Everything the dashboard shows for one session, kept live: the first view and health
 * history over HTTP, then the WebSocket's `stream`, `tally`, `health`, `token` and `closed`.
 */
export function useSession(id: string, initialToken: string) {
  const [token, setToken] = useState(initialToken);
  const tokenRef = useRef(initialToken);
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const [ended, setEnded] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<SessionState['loadError']>(null);
  const [expiresAt, setExpiresAt] = useState<number | null>(null);
  const [relay, setRelay] = useState<'auto' | 'always' | null>(null);
  const [streams, setStreams] = useState<StreamViewData[]>([]);
  const [tally, setTallyState] = useState<Tally>({ program: [], preview: [] });
  // The latest tally (from the server or our own last request), for the next button press.
  const tallyRef = useRef<Tally>({ program: [], preview: [] });
  const tallyQueue = useRef<Promise<unknown>>(Promise.resolve());
  const [tallyOrigin, setTallyOrigin] = useState<TallyOrigin | null>(null);
  const setTally = (t: Tally): void => {
    tallyRef.current = t;
    setTallyState(t);
  };
  const health = useRef(new Map<string, HealthSeries>());
  const [healthVersion, setHealthVersion] = useState(0);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const wasLive = useRef(new Set<string>());
  const conditions = useRef(new Map<string, Assessment>());
  const nextAlert = useRef(1);
  const feed = useRef<SessionFeed | null>(null);

  const adoptToken = (t: string): void => {
    tokenRef.current = t;
    setToken(t);
    tokens.set('admin', id, t);
  };

  const series = (stream: string): HealthSeries => {
    let s = health.current.get(stream);
    if (s === undefined) {
      s = new HealthSeries();
      health.current.set(stream, s);
    }
    return s;
  };

  /** Re-assesses each stream; a change for the worse (or a recovery) becomes an alert. */
  const reassess = (list: readonly StreamViewData[]): void => {
    const fresh: Alert[] = [];
    for (const v of list) {
      if (v.state === 'connected') wasLive.current.add(v.name);
      const a = assess(v, wasLive.current.has(v.name), health.current.get(v.name)?.latest());
      const before = conditions.current.get(v.name);
      conditions.current.set(v.name, a);
      if (before?.key === a.key) continue;
      const level = a.level;
      if (level !== null) {
        fresh.push({
          id: nextAlert.current++,
          stream: v.name,
          level,
          text: a.reason,
          at: Date.now(),
        });
      } else if (before?.level !== null && before?.level !== undefined) {
        // Only media flowing again is a recovery (`ok` needs `connected`).
        if (a.condition === 'ok') {
          fresh.push({
            id: nextAlert.current++,
            stream: v.name,
            level: 'info',
            text: 'Recovered',
            at: Date.now(),
          });
        }
      }
    }
    if (fresh.length > 0) setAlerts((old) => [...fresh.reverse(), ...old].slice(0, 20));
  };

  const streamsRef = useRef<StreamViewData[]>([]);
  const applyStreams = (list: StreamViewData[]): void => {
    streamsRef.current = list;
    setStreams(list);
    reassess(list);
  };

  const onMessage = (m: ParsedServerMessage): void => {
    switch (m.type) {
      case 'welcome':
        setExpiresAt(m.expiresAt);
        setTally(m.tally);
        // Absent until tally is first set (an admin's welcome carries it from then on).
        setTallyOrigin(m.tallyOrigin ?? null);
        break;
      case 'stream': {
        const view = viewOf(m);
        const before = streamsRef.current.find((s) => s.name === view.name);
        // A takeover seen live is news; one that happened before the page loaded is on the card.
        if (
          before !== undefined &&
          view.takeover !== null &&
          view.takeover.at !== before.takeover?.at
        ) {
          const t = view.takeover;
          setAlerts((old) =>
            [
              {
                id: nextAlert.current++,
                stream: view.name,
                level: 'warning' as const,
                text: takeoverText(t),
                at: t.at,
              },
              ...old,
            ].slice(0, 20),
          );
        }
        const list = streamsRef.current.some((s) => s.name === view.name)
          ? streamsRef.current.map((s) => (s.name === view.name ? view : s))
          : [...streamsRef.current, view];
        applyStreams(list);
        break;
      }
      case 'tally':
        setTally({ program: m.program, preview: m.preview });
        // Every set, ours included, comes back with its origin: the last writer shows.
        if (m.origin !== undefined) setTallyOrigin(m.origin);
        break;
      case 'health':
        series(m.stream).add({ role: m.role, at: m.at, stats: m.stats });
        setHealthVersion((v) => v + 1);
        reassess(streamsRef.current);
        break;
      case 'token':
        adoptToken(m.token);
        setExpiresAt(m.expiresAt);
        break;
      default:
        break;
    }
  };

  useEffect(() => {
    let cancelled = false;
    const load = async (): Promise<void> => {
      try {
        const view = await api.view(id, tokenRef.current);
        if (cancelled) return;
        setExpiresAt(view.expiresAt);
        setRelay(view.relay);
        setTally(view.tally);
        setTallyOrigin(view.tallyOrigin ?? null);
        if (streamsRef.current.length === 0) applyStreams(view.streams);
        const history = await api.health(id, tokenRef.current);
        if (cancelled) return;
        for (const s of history.samples) series(s.stream).add(s);
        setHealthVersion((v) => v + 1);
      } catch (err) {
        if (!cancelled) {
          const final = err instanceof ApiError && [401, 403, 404].includes(err.status);
          setLoadError({ message: explain(err), final });
        }
        return;
      }
      const f = new SessionFeed({
        session: id,
        token: () => tokenRef.current,
        onMessage,
        onStatus: (s, reason) => {
          setStatus(s);
          if (s === 'ended') setEnded(reason ?? 'ended');
        },
      });
      feed.current = f;
      f.start();
    };
    void load();
    return () => {
      cancelled = true;
      feed.current?.stop();
    };
    // The session id is the key of this page: everything else is read through refs.
  }, [id]);

  const state: SessionState = {
    token,
    status,
    ended,
    loadError,
    expiresAt,
    relay,
    streams,
    tally,
    tallyOrigin,
    health: health.current,
    healthVersion,
    alerts,
    conditions: conditions.current,
  };

  return {
    state,
    /** The server's clock, ms (countdowns and extensions use it, not this machine's). */
    serverNow: (): number => feed.current?.serverNow() ?? Date.now(),
    /**
     * Presses PGM or PVW: requests go one at a time, each computed from the latest tally, so
     * quick presses on two streams never undo each other.
     */
    pressTally: (stream: string, which: 'program' | 'preview'): Promise<void> => {
      const run = tallyQueue.current.then(async () => {
        const next = nextTally(tallyRef.current, stream, which);
        await api.tally(id, tokenRef.current, next);
        setTally(next);
      });
      // The caller gets `run` and shows its failure; the queue only needs to move on.
      tallyQueue.current = run.catch(() => undefined);
      return run;
    },
    dismiss: (alertId: number) => {
      setAlerts((old) => old.filter((a) => a.id !== alertId));
    },
    extended: (t: string, exp: number) => {
      adoptToken(t);
      setExpiresAt(exp);
    },
    closed: () => {
      feed.current?.stop();
      setStatus('ended');
      setEnded('you closed the session');
      tokens.forget('admin', id);
    },
  };
}
