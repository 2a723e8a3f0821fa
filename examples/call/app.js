// The call example's page: join Punch as "me", call "them", chat over a data channel and show
// the remote video. Every incoming call is answered (with the camera when it is on).
import { createPeer } from '/punch-sdk.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$('me').value = params.get('me') ?? 'alice';
$('them').value = params.get('them') ?? 'bob';

let peer;
let group = 'demo';
let camera;
let session;
let chat;

function log(line) {
  const el = $('log');
  el.textContent += `${line}\n`;
  el.scrollTop = el.scrollHeight;
}

function setChat(channel) {
  chat = channel;
  const ready = () => {
    const open = channel === chat && channel.readyState === 'open';
    $('text').disabled = !open;
    $('send').disabled = !open;
  };
  channel.addEventListener('open', ready);
  channel.addEventListener('close', ready);
  channel.addEventListener('message', (e) => {
    log(`${session?.remote.peer ?? 'them'}: ${String(e.data)}`);
  });
  ready();
}

/** One place for both directions: our call, or one we answered. */
function attach(s) {
  session?.close();
  session = s;
  $('hangup').disabled = false;
  // Ours (the caller's) channel, then the remote's, and ours again after a fresh call.
  const mine = s.channels.get('chat');
  if (mine !== undefined) setChat(mine);
  else chat = undefined;
  s.on('datachannel', (channel) => {
    if (channel.label === 'chat') setChat(channel);
  });
  s.on('track', ({ track, streams }) => {
    $('remote').srcObject = streams[0] ?? new MediaStream([track]);
  });
  s.on('state', (state) => {
    $('state').textContent = state;
  });
  s.on('call', ({ reason }) => {
    log(`(new connection: ${reason})`);
  });
  s.on('close', ({ reason }) => {
    log(`call with ${s.remote.peer} ended: ${reason}`);
    if (session === s) {
      session = undefined;
      $('hangup').disabled = true;
      $('state').textContent = '—';
      $('remote').srcObject = null;
    }
  });
}

async function join() {
  const me = $('me').value.trim();
  if ($('camera').checked && camera === undefined) {
    camera = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    $('local').srcObject = camera;
  }
  const config = await (await fetch('/config')).json();
  group = config.group;
  peer = createPeer({
    url: config.url,
    getToken: async () => {
      const res = await fetch(`/token?peer=${encodeURIComponent(me)}`);
      if (!res.ok) throw new Error(`token: HTTP ${res.status} ${await res.text()}`);
      return res.text();
    },
  });
  peer.on('session', (s) => {
    // Synchronously: these tracks then go out in the answer itself.
    if (camera !== undefined) for (const t of camera.getTracks()) s.addTrack(t, camera);
    log(`${s.remote.peer} is calling`);
    attach(s);
  });
  peer.on('error', (err) => {
    log(`error ${err.code}: ${err.message}`);
  });
  peer.on('reconnecting', ({ delayMs }) => {
    log(`signalling lost, reconnecting in ${delayMs} ms`);
  });
  peer.on('close', ({ code, reason }) => {
    log(`signalling closed for good: ${code} ${reason}`);
    $('call').disabled = true;
  });
  const info = await peer.ready;
  log(`joined as ${info.group}/${info.peer}`);
  $('start').disabled = true;
  $('me').disabled = true;
  $('call').disabled = false;
}

async function call() {
  const them = $('them').value.trim();
  log(`calling ${them}…`);
  const streams = camera === undefined ? [] : [camera];
  attach(await peer.connect(group, them, { dataChannels: ['chat'], streams }));
  log(`${them} answered`);
}

const report = (err) => {
  log(`${err.code ?? 'error'}: ${err.message}`);
};
$('start').addEventListener('click', () => {
  join().catch(report);
});
$('call').addEventListener('click', () => {
  call().catch(report);
});
$('hangup').addEventListener('click', () => {
  session?.close();
});
$('chat').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('text').value;
  if (text === '' || chat?.readyState !== 'open') return;
  chat.send(text);
  log(`me: ${text}`);
  $('text').value = '';
});
