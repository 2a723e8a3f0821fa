import { describe, expect, it } from 'vitest';
import { ObsScenes, readSceneItems } from './obs-scenes.js';

const input = (sourceName: string, sceneItemEnabled = true) => ({
  sourceName,
  sceneItemEnabled,
  sourceType: 'OBS_SOURCE_TYPE_INPUT',
});
const scene = (sourceName: string, isGroup = false) => ({
  sourceName,
  sceneItemEnabled: true,
  sourceType: 'OBS_SOURCE_TYPE_SCENE',
  isGroup,
});

describe('OBS scenes as tally keys', () => {
  it('reads the visible items of a GetSceneItemList answer, and nothing from junk', () => {
    expect(
      readSceneItems([
        input('Cam 1'),
        input('Cam 2', false),
        scene('Inner'),
        scene('Cams', true),
        7,
        null,
      ]),
    ).toEqual({
      sources: ['Cam 1'],
      scenes: ['Inner', 'Cams'],
      groups: ['Cams'],
    });
    expect(readSceneItems({ sceneItems: [] })).toBeUndefined();
  });

  it('lights the scene, its visible sources and nested scenes; program wins over preview', () => {
    const s = new ObsScenes();
    s.program = 'Wide';
    s.preview = 'Interview';
    expect(s.missing().sort()).toEqual(['Interview', 'Wide']);
    s.learn('Wide', { sources: ['Slides'], scenes: ['Inner'], groups: [] });
    expect(s.missing().sort()).toEqual(['Inner', 'Interview']);
    expect(s.isGroup('Inner')).toBe(false);
    // a loop: followed once
    s.learn('Inner', { sources: ['Cam 2'], scenes: ['Wide'], groups: [] });
    s.learn('Interview', { sources: ['Cam 1'], scenes: ['Cams'], groups: ['Cams'] });
    expect(s.missing()).toEqual(['Cams']);
    expect(s.isGroup('Cams')).toBe(true);
    s.learn('Cams', { sources: ['Cam 2'], scenes: [], groups: [] });
    expect(s.missing()).toEqual([]);
    expect(Object.fromEntries(s.state())).toEqual({
      Interview: 'preview',
      'Cam 1': 'preview',
      'Cam 2': 'program',
      Cams: 'preview',
      Wide: 'program',
      Slides: 'program',
      Inner: 'program',
    });
    expect(s.forget('Inner')).toBe(true);
    expect(s.forget('Elsewhere')).toBe(false);
    expect(s.missing()).toEqual(['Inner']);
  });

  it('follows a scene met both deep and shallow from its shallow place', () => {
    // Main > A > B > Deep (depth 3: its nested scenes are too deep), and Main > Deep directly:
    // Deep > Cams is then at depth 2 and on air.
    const s = new ObsScenes();
    s.program = 'Main';
    s.learn('Main', { sources: [], scenes: ['A', 'Deep'], groups: [] });
    s.learn('A', { sources: [], scenes: ['B'], groups: [] });
    s.learn('B', { sources: [], scenes: ['Deep'], groups: [] });
    s.learn('Deep', { sources: [], scenes: ['Cams'], groups: [] });
    expect(s.missing()).toEqual(['Cams']);
    s.learn('Cams', { sources: ['Cam 1'], scenes: [], groups: [] });
    expect(s.state().get('Cam 1')).toBe('program');
  });

  it('asks for a huge scene tree once: what it learns on air is never forgotten for more', () => {
    const s = new ObsScenes();
    s.program = 'Main';
    const nested = Array.from({ length: 300 }, (_, i) => `S${i}`);
    s.learn('Main', { sources: [], scenes: nested, groups: [] });
    let asked = 0;
    // Every answer learned, as obs.ts does, until nothing is missing: bounded.
    for (let round = 0; round < 10 && s.missing().length > 0; round++)
      for (const scene of s.missing()) {
        asked++;
        s.learn(scene, { sources: [`Cam ${scene}`], scenes: [], groups: [] });
      }
    expect(s.missing()).toEqual([]);
    expect(asked).toBeLessThanOrEqual(300);
    expect(s.state().get('Cam S0')).toBe('program');
  });
});
