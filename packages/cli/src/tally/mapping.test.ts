import { describe, expect, it } from 'vitest';
import { UsageError } from '../usage.js';
import {
  displayIndexes,
  parseMap,
  sameTally,
  tallyFor,
  unmatchable,
  type KeyState,
} from './mapping.js';
import { parseTallyLine } from './vmix.js';
import { parseSourceUrl } from './source.js';
import { displayState } from './tsl-in.js';

describe('tally mapping', () => {
  it('reads KEY=STREAM pairs; a key may light several streams', () => {
    const map = parseMap(['1=cam-wide', 'Cam 2=cam-close', '1=cam-iso']);
    expect([...map]).toEqual([
      ['1', ['cam-wide', 'cam-iso']],
      ['Cam 2', ['cam-close']],
    ]);
    for (const bad of [[], ['1'], ['=cam'], ['1=CAM'], ['1=']])
      expect(() => parseMap(bad)).toThrow(UsageError);
  });

  it('turns the switcher state into the session tally; program wins over preview', () => {
    const map = parseMap(['1=cam-wide', '2=cam-close', '3=cam-close']);
    const state = new Map<string, KeyState>([
      ['1', 'preview'],
      ['2', 'off'],
      ['3', 'program'],
      ['9', 'program'],
    ]);
    expect(tallyFor(map, state)).toEqual({ program: ['cam-close'], preview: ['cam-wide'] });
    const both = parseMap(['1=cam-wide', '2=cam-wide']);
    expect(
      tallyFor(
        both,
        new Map([
          ['1', 'preview'],
          ['2', 'program'],
        ]),
      ),
    ).toEqual({
      program: ['cam-wide'],
      preview: [],
    });
  });

  it('a key the state does not name takes `others` (a TSL broadcast), off by default', () => {
    const map = parseMap(['1=cam-wide', '2=cam-close', '3=cam-far']);
    const state = new Map<string, KeyState>([['2', 'off']]);
    expect(tallyFor(map, state)).toEqual({ program: [], preview: [] });
    expect(tallyFor(map, state, 'program')).toEqual({
      program: ['cam-wide', 'cam-far'],
      preview: [],
    });
  });

  it('finds the keys a numbered source can never name', () => {
    const map = parseMap(['Cam 1=cam-wide', '01=cam-close', '0=cam-far', '3=cam-iso']);
    expect(unmatchable(map, 'vmix')).toEqual([
      '"Cam 1": vMix keys are input numbers (1 = the first input)',
      '"01": vMix keys are input numbers (1 = the first input)',
      '"0": vMix keys are input numbers (1 = the first input)',
    ]);
    expect(unmatchable(parseMap(['65535=cam-wide', '65534=cam-close']), 'tsl5+udp')).toEqual([
      '"65535": TSL keys are display indexes, 0 to 65534',
    ]);
    expect(unmatchable(parseMap(['6000=cam-wide', '0=cam-close']), 'atem')).toEqual([]);
    // OBS keys are scene and source names: any of them can match.
    expect(unmatchable(map, 'obs')).toEqual([]);
  });

  it('compares tallies regardless of order', () => {
    expect(
      sameTally({ program: ['a1', 'b1'], preview: [] }, { program: ['b1', 'a1'], preview: [] }),
    ).toBe(true);
    expect(sameTally({ program: ['a1'], preview: [] }, { program: [], preview: ['a1'] })).toBe(
      false,
    );
  });

  it('gives --tsl-out a display index per stream: its numeric key, else its place', () => {
    const map = parseMap(['5=cam-close', 'Scene=cam-wide']);
    expect([...displayIndexes(map, ['cam-wide', 'cam-close', 'cam-3'])]).toEqual([
      ['cam-close', 5],
      ['cam-wide', 1],
      ['cam-3', 3],
    ]);
  });

  it('never gives two streams one display: a place a numeric key took moves on', () => {
    // vMix input 3 is cam-a: cam-c, third in the session, must not share display 3 with it.
    const map = parseMap(['3=cam-a', '1=cam-b']);
    expect([...displayIndexes(map, ['cam-a', 'cam-b', 'cam-c', 'cam-d'])]).toEqual([
      ['cam-a', 3],
      ['cam-b', 1],
      ['cam-c', 4],
      ['cam-d', 5],
    ]);
  });
});

describe('sources', () => {
  it("reads vMix's TALLY OK lines", () => {
    expect([...(parseTallyLine('TALLY OK 0121') ?? [])]).toEqual([
      ['1', 'off'],
      ['2', 'program'],
      ['3', 'preview'],
      ['4', 'program'],
    ]);
    expect(parseTallyLine('TALLY OK')).toBeUndefined();
    expect(parseTallyLine('TALLY OK 01x')).toBeUndefined();
    expect(parseTallyLine('TALLY ER no')).toBeUndefined();
  });

  it('reads SOURCE urls', () => {
    expect(parseSourceUrl('vmix://10.0.0.5')).toEqual({
      kind: 'vmix',
      host: '10.0.0.5',
      port: 8099,
    });
    expect(parseSourceUrl('tsl5+udp://:8900')).toEqual({ kind: 'tsl5+udp', host: '', port: 8900 });
    expect(parseSourceUrl('tsl5+tcp://[::1]:9000')).toEqual({
      kind: 'tsl5+tcp',
      host: '::1',
      port: 9000,
    });
    expect(parseSourceUrl('atem://10.0.0.7')).toEqual({
      kind: 'atem',
      host: '10.0.0.7',
      port: 9910,
    });
    for (const bad of [
      'vmix://',
      'tsl5+udp://host',
      'http://x',
      'vmix://h:70000',
      'obs://',
      'atem://',
      'atem://[::1]',
      'atem2://h',
    ])
      expect(() => parseSourceUrl(bad)).toThrow(UsageError);
  });

  it('reads a TSL display: red or amber is program, green preview', () => {
    const d = { index: 1, rh: 0, text: 0, lh: 0, brightness: 3, label: '' } as const;
    expect(displayState({ ...d, lh: 3 })).toBe('program');
    expect(displayState({ ...d, rh: 2, text: 1 })).toBe('program');
    expect(displayState({ ...d, text: 2 })).toBe('preview');
    expect(displayState(d)).toBe('off');
  });
});
