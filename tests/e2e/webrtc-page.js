// The page-side harness for tests/e2e/webrtc.test.ts: drives the SDK's browser bundle and keeps
// what it saw in `window.st` for the test to read. Plain JS, served as /harness.js.
import { createPeer } from '/sdk.js';

const st = { inbox: [], errors: [], closes: [], states: [], sessions: 0, tracks: 0 };
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
  session.on('state', (s) => st.states.push(s));
  session.on('track', (event) => {
    st.tracks++;
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    document.body.append(video);
    window.video = video;
  });
}

window.start = async ({ url, token, forceRelay = false, camera = false }) => {
  if (camera) {
    media = await navigator.mediaDevices.getUserMedia({
      video: { width: 320, height: 240 },
      audio: false,
    });
  }
  const peer = createPeer({ url, token, forceRelay });
  window.peer = peer;
  peer.on('session', (session) => {
    if (media !== undefined) for (const t of media.getTracks()) session.addTrack(t, media);
    watchSession(session);
  });
  peer.on('close', (c) => st.closes.push({ code: c.code, reason: c.reason }));
  peer.on('error', (e) => st.errors.push(e.code));
  const welcome = await peer.ready;
  return { group: welcome.group, peer: welcome.peer, iceServers: welcome.iceServers };
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

/** Sends on the latest `chat` channel once it is open. */
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

window.pair = async () => {
  const p = await window.session?.selectedCandidatePair();
  return p === undefined ? null : { local: p.local.candidateType, remote: p.remote.candidateType };
};
