// The payloads bench/signal.mjs relays: what a WebRTC app sends through a signalling server.
// `offer`: an SDP offer as Chrome writes it for one audio, one video (VP8, VP9, two H264
// profiles, with RTX, RED and FEC) and one data channel, bundled; `candidate`: one trickled
// ICE candidate.

const sdp = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 2d7e8c3f-6b1a-4c52-9e0d-5f3a7b9c1e24',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Hq7Z',
  'a=ice-pwd:9fKx2mQe8LrT4vWb1nYc6sJd',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 3C:8F:41:A2:7D:55:E0:19:B4:6A:2E:C1:90:FD:37:8B:64:0E:D9:12:AF:5C:83:27:E6:4B:1D:98:72:C5:0A:F3',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:2d7e8c3f-6b1a-4c52-9e0d-5f3a7b9c1e24 8a1f0c6e-2b7d-4e93-a5c8-1d6f4b2e9a70',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:3735928559 cname:kq9Xr2mLw7TzPb4e',
  'a=ssrc:3735928559 msid:2d7e8c3f-6b1a-4c52-9e0d-5f3a7b9c1e24 8a1f0c6e-2b7d-4e93-a5c8-1d6f4b2e9a70',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107 98 99 112 113 116',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Hq7Z',
  'a=ice-pwd:9fKx2mQe8LrT4vWb1nYc6sJd',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 3C:8F:41:A2:7D:55:E0:19:B4:6A:2E:C1:90:FD:37:8B:64:0E:D9:12:AF:5C:83:27:E6:4B:1D:98:72:C5:0A:F3',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:13 urn:3gpp:video-orientation',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'a=sendrecv',
  'a=msid:2d7e8c3f-6b1a-4c52-9e0d-5f3a7b9c1e24 c47d1e2a-93b8-4f60-8e15-7a2c9d3b6f08',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  ...[
    [96, 'VP8/90000', 97],
    [
      102,
      'H264/90000',
      103,
      'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
    ],
    [
      106,
      'H264/90000',
      107,
      'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    ],
    [98, 'VP9/90000', 99, 'profile-id=0'],
  ].flatMap(([pt, codec, rtx, fmtp]) => [
    `a=rtpmap:${pt} ${codec}`,
    `a=rtcp-fb:${pt} goog-remb`,
    `a=rtcp-fb:${pt} transport-cc`,
    `a=rtcp-fb:${pt} ccm fir`,
    `a=rtcp-fb:${pt} nack`,
    `a=rtcp-fb:${pt} nack pli`,
    ...(fmtp === undefined ? [] : [`a=fmtp:${pt} ${fmtp}`]),
    `a=rtpmap:${rtx} rtx/90000`,
    `a=fmtp:${rtx} apt=${pt}`,
  ]),
  'a=rtpmap:112 red/90000',
  'a=rtpmap:113 rtx/90000',
  'a=fmtp:113 apt=112',
  'a=rtpmap:116 ulpfec/90000',
  'a=ssrc-group:FID 2864434397 1431655765',
  'a=ssrc:2864434397 cname:kq9Xr2mLw7TzPb4e',
  'a=ssrc:2864434397 msid:2d7e8c3f-6b1a-4c52-9e0d-5f3a7b9c1e24 c47d1e2a-93b8-4f60-8e15-7a2c9d3b6f08',
  'a=ssrc:1431655765 cname:kq9Xr2mLw7TzPb4e',
  'a=ssrc:1431655765 msid:2d7e8c3f-6b1a-4c52-9e0d-5f3a7b9c1e24 c47d1e2a-93b8-4f60-8e15-7a2c9d3b6f08',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:Hq7Z',
  'a=ice-pwd:9fKx2mQe8LrT4vWb1nYc6sJd',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 3C:8F:41:A2:7D:55:E0:19:B4:6A:2E:C1:90:FD:37:8B:64:0E:D9:12:AF:5C:83:27:E6:4B:1D:98:72:C5:0A:F3',
  'a=setup:actpass',
  'a=mid:2',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
  '',
].join('\r\n');

/** Each payload's fields after the bench's own `t` (send time) and `s` (sequence) stamps. */
export const PAYLOADS = {
  offer: { label: 'SDP offer', body: { type: 'offer', sdp } },
  candidate: {
    label: 'ICE candidate',
    body: {
      type: 'candidate',
      candidate: {
        candidate:
          'candidate:842163049 1 udp 1677729535 203.0.113.7 54321 typ srflx raddr 192.168.1.20 rport 54321 generation 0',
        sdpMid: '0',
        sdpMLineIndex: 0,
        usernameFragment: 'Hq7Z',
      },
    },
  },
};

/**
 * The payload as JSON text with its stamps first: `{"t":T,"s":S,...body}`. The relays keep key
 * order, so a receiver finds the stamps right after `"payload":` without parsing the rest.
 */
export function payloadText(bodyJson, t, s) {
  return `{"t":${t},"s":${s},${bodyJson.slice(1)}`;
}

/** Bytes of the payload's JSON text with typical stamps. */
export function payloadBytes(name) {
  return Buffer.byteLength(payloadText(JSON.stringify(PAYLOADS[name].body), 1e15, 123456));
}
