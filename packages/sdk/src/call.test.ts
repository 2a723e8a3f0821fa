import { describe, expect, it } from 'vitest';
import { Call, type CallHost, type EnvelopeBody } from './call.js';
import type { Envelope } from './envelope.js';
import { silentLogger } from './logger.js';

/**
 * Just enough of an RTCPeerConnection to drive perfect negotiation: implicit descriptions,
 * implicit rollback, and (like werift) candidates emitted while setLocalDescription runs.
 */
class FakePc {
  signalingState: RTCSignalingState = 'stable';
  localDescription: { type: RTCSdpType; sdp: string } | null = null;
  readonly ops: string[] = [];
  /** Resolves setLocalDescription / setRemoteDescription when set (to hold them open). */
  gate: Promise<void> | undefined;
  candidatesPerDescription = 2;
  readonly #listeners = new Map<string, ((ev: unknown) => void)[]>();
  #n = 0;

  addEventListener(type: string, fn: (ev: unknown) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), fn]);
  }

  fire(type: string, ev: unknown = {}): void {
    for (const fn of this.#listeners.get(type) ?? []) fn(ev);
  }

  async setLocalDescription(): Promise<void> {
    const type: RTCSdpType = this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
    this.ops.push(`sld:${type}`);
    for (let i = 0; i < this.candidatesPerDescription; i++) {
      this.fire('icecandidate', { candidate: { candidate: `cand${++this.#n}`, sdpMid: '0' } });
    }
    await this.gate;
    this.localDescription = { type, sdp: `${type}-sdp` };
    this.signalingState = type === 'offer' ? 'have-local-offer' : 'stable';
  }

  async setRemoteDescription(d: { type: RTCSdpType; sdp: string }): Promise<void> {
    this.ops.push(`srd:${d.type}`);
    await this.gate;
    if (d.sdp === 'bad') throw new Error('bad sdp');
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }

  async addIceCandidate(c: { candidate: string }): Promise<void> {
    this.ops.push(`ice:${c.candidate}`);
    await Promise.resolve();
    if (c.candidate === 'bad') throw new Error('bad candidate');
  }

  close(): void {
    this.ops.push('close');
  }
}

function setup(role: { polite: boolean; caller: boolean }) {
  const pc = new FakePc();
  const sent: EnvelopeBody[] = [];
  const failures: string[] = [];
  const applied: string[] = [];
  let initialRef: string | undefined;
  const host: CallHost = {
    ...role,
    logger: silentLogger,
    send: (body) => {
      sent.push(body);
      return `c1-${sent.length}`;
    },
    initialSent: (ref) => {
      initialRef = ref;
    },
    remoteApplied: (type) => applied.push(type),
    failed: (err, during) => failures.push(`${during}: ${String(err)}`),
  };
  const call = new Call('c1', pc as unknown as RTCPeerConnection, host);
  return { pc, call, sent, failures, applied, initialRef: () => initialRef };
}

const summary = (sent: EnvelopeBody[]): string[] =>
  sent.map((b) =>
    b.kind === 'description'
      ? `${b.description.type}${b.initial === true ? ' (initial)' : ''}`
      : `candidate ${b.candidate.candidate}`,
  );

const offer = (sdp = 'remote-offer'): Envelope => ({
  v: 1,
  call: 'c1',
  kind: 'description',
  description: { type: 'offer', sdp },
});
const answer: Envelope = {
  v: 1,
  call: 'c1',
  kind: 'description',
  description: { type: 'answer', sdp: 'a' },
};
const candidate = (c: string): Envelope => ({
  v: 1,
  call: 'c1',
  kind: 'candidate',
  candidate: { candidate: c, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null },
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('Call (perfect negotiation)', () => {
  it('the caller sends its first offer as initial, candidates after it, later offers plain', async () => {
    const { pc, sent, initialRef } = setup({ polite: false, caller: true });
    pc.fire('negotiationneeded');
    await settle();
    expect(summary(sent)).toEqual(['offer (initial)', 'candidate cand1', 'candidate cand2']);
    expect(initialRef()).toBe('c1-1');
    pc.signalingState = 'stable';
    pc.fire('negotiationneeded');
    await settle();
    expect(summary(sent).slice(3)).toEqual(['offer', 'candidate cand3', 'candidate cand4']);
  });

  it('the callee answers an offer and never marks anything initial', async () => {
    const { pc, call, sent, applied } = setup({ polite: true, caller: false });
    call.receive(offer());
    await settle();
    expect(pc.ops).toEqual(['srd:offer', 'sld:answer']);
    expect(summary(sent)).toEqual(['answer', 'candidate cand1', 'candidate cand2']);
    expect(applied).toEqual(['offer']);
    pc.fire('negotiationneeded');
    await settle();
    expect(summary(sent)[3]).toBe('offer');
  });

  it('applies incoming messages one at a time, in order', async () => {
    const { pc, call } = setup({ polite: true, caller: false });
    let open!: () => void;
    pc.gate = new Promise((resolve) => (open = resolve));
    call.receive(offer());
    call.receive(candidate('x1'));
    await settle();
    expect(pc.ops).toEqual(['srd:offer']);
    open();
    await settle();
    expect(pc.ops).toEqual(['srd:offer', 'sld:answer', 'ice:x1']);
  });

  it('impolite: ignores an offer that collides with its own, and its candidates quietly', async () => {
    const { pc, call, sent, failures } = setup({ polite: false, caller: true });
    let open!: () => void;
    pc.gate = new Promise((resolve) => (open = resolve));
    pc.fire('negotiationneeded'); // making an offer, held open
    await settle();
    call.receive(offer());
    call.receive(candidate('bad'));
    await settle();
    expect(pc.ops).toEqual(['sld:offer', 'ice:bad']);
    expect(failures).toEqual([]);
    open();
    await settle();
    expect(summary(sent)[0]).toBe('offer (initial)');
  });

  it('polite: lets a colliding offer win (rolled back implicitly) and answers it', async () => {
    const { pc, call, sent } = setup({ polite: true, caller: false });
    pc.signalingState = 'have-local-offer';
    call.receive(offer());
    await settle();
    expect(pc.ops).toEqual(['srd:offer', 'sld:answer']);
    expect(summary(sent)[0]).toBe('answer');
  });

  it('reports what perfect negotiation does not expect, and keeps going', async () => {
    const { call, failures, pc } = setup({ polite: true, caller: false });
    call.receive(offer('bad'));
    call.receive(candidate('bad'));
    call.receive(answer);
    await settle();
    expect(failures).toEqual([
      'applying a remote description: Error: bad sdp',
      'applying a remote candidate: Error: bad candidate',
    ]);
    expect(pc.ops).toEqual(['srd:offer', 'ice:bad', 'srd:answer']);
  });

  it('sends and applies nothing once closed', async () => {
    const { call, pc, sent } = setup({ polite: true, caller: true });
    call.close();
    pc.fire('negotiationneeded');
    call.receive(offer());
    await settle();
    expect(sent).toEqual([]);
    expect(pc.ops).toEqual(['close']);
  });
});
