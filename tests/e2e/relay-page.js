// The page-side harness for tests/e2e/webrtc-own-turn.test.ts: a peer made by the SDK's browser
// bundle with `forceRelay` (iceTransportPolicy 'relay') and, of Punch's welcome ICE servers, only
// the TURN URL over the transport under test. Keeps what it saw in `window.st`. Plain JS, served
// as /harness.js.
/* global window, document, MediaStream */
import { createPeer } from '/sdk.js';

const st = { inbox: [], errors: [], sessions: 0, fromPunch: [] };
window.st = st;
let media;

function watchChannel(channel) {
  channel.addEventListener('message', (e) => st.inbox.push(String(e.data)));
}

function watchSession(session) {
  window.session = session;
  st.sessions++;
  for (const channel of session.channels.values()) watchChannel(channel);
  session.on('datachannel', watchChannel);
  session.on('track', (event) => {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    document.body.append(video);
    window.video = video;
  });
}

window.start = async ({ url, token, transport, camera = false }) => {
  if (camera) {
    media = await navigator.mediaDevices.getUserMedia({
      video: { width: 320, height: 240 },
      audio: false,
    });
  }
  const peer = createPeer({
    url,
    token,
    forceRelay: true,
    iceServers: (fromPunch) => {
      st.fromPunch = fromPunch;
      return fromPunch
        .map((s) => ({
          ...s,
          urls: (typeof s.urls === 'string' ? [s.urls] : s.urls).filter(
            (u) => u.startsWith('turn:') && u.endsWith(`?transport=${transport}`),
          ),
        }))
        .filter((s) => s.urls.length > 0);
    },
  });
  window.peer = peer;
  peer.on('session', (session) => {
    if (media !== undefined) for (const t of media.getTracks()) session.addTrack(t, media);
    watchSession(session);
  });
  peer.on('error', (e) => st.errors.push(e.code));
  const welcome = await peer.ready;
  return { fromPunch: st.fromPunch, used: welcome.iceServers };
};

window.call = async (group, id) => {
  try {
    const session = await window.peer.connect(group, id, {
      dataChannels: ['chat'],
      ...(media === undefined ? {} : { streams: [media] }),
    });
    watchSession(session);
    return { ok: true };
  } catch (e) {
    return { ok: false, code: e.code, message: String(e.message) };
  }
};

/** Sends on the latest `chat` channel once it is open (bounded: 200 × 50 ms). */
window.send = async (text) => {
  for (let i = 0; i < 200; i++) {
    const channel = window.session?.channels.get('chat');
    if (channel?.readyState === 'open') {
      channel.send(text);
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

/** The raw getStats() entries of the current session's connection, as JSON. */
window.stats = async () => {
  const out = [];
  const report = await window.session.pc.getStats();
  report.forEach((s) => out.push(JSON.parse(JSON.stringify(s))));
  return out;
};
