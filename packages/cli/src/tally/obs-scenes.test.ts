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
});
