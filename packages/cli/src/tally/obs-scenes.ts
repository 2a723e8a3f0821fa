/**
 * What OBS shows, as tally keys: the program and preview scenes, and the sources visible in
 * them (enabled scene items, through nested scenes a few levels deep), so a camera that
 * appears in several scenes lights its stream whichever scene is cut to. Pure: obs.ts feeds it
 * OBS's answers and asks it what to request next.
 */
import type { KeyState } from './mapping.js';

/** Nested scenes followed this deep (a scene in a scene in a scene). */
const MAX_DEPTH = 3;
/** Scenes remembered at most: a scene collection is tens of scenes, not thousands. */
const MAX_SCENES = 256;
/**
 * Scenes followed from one scene at most: program and preview together stay within
 * MAX_SCENES, so every scene on air can be remembered at once and none is asked for again and
 * again (forgetting one on air to learn another would never end).
 */
const MAX_VISIBLE = MAX_SCENES / 2;

/**
 * One scene's enabled items: inputs by name, and nested scenes and groups by name; `groups`
 * says which of those are groups (OBS lists a group's items only through GetGroupSceneItemList).
 */
export interface SceneItems {
  readonly sources: readonly string[];
  readonly scenes: readonly string[];
  readonly groups: readonly string[];
}

/**
 * A scene's items from a GetSceneItemList answer (`sceneItems`), or undefined when the answer
 * is not one. Hidden items are left out: what is not visible is not on air.
 *
 * @example
 * readSceneItems([{ sourceName: 'Cam 1', sceneItemEnabled: true, sourceType: 'OBS_SOURCE_TYPE_INPUT' }]);
 * // { sources: ['Cam 1'], scenes: [], groups: [] }
 */
export function readSceneItems(items: unknown): SceneItems | undefined {
  if (!Array.isArray(items)) return undefined;
  const sources: string[] = [];
  const scenes: string[] = [];
  const groups: string[] = [];
  for (const item of items.slice(0, 1000) as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { sourceName, sceneItemEnabled, sourceType, isGroup } = item as Record<string, unknown>;
    if (typeof sourceName !== 'string' || sceneItemEnabled !== true) continue;
    if (sourceType === 'OBS_SOURCE_TYPE_SCENE') {
      scenes.push(sourceName);
      if (isGroup === true) groups.push(sourceName);
    } else sources.push(sourceName);
  }
  return { sources, scenes, groups };
}

export class ObsScenes {
  program: string | undefined;
  preview: string | undefined;
  readonly #items = new Map<string, SceneItems>();
  /** Names seen as groups in a learned scene. */
  readonly #groups = new Set<string>();

  /** Forgets a scene's items (they changed); true when it matters now. */
  forget(scene: string): boolean {
    this.#items.delete(scene);
    return this.#visible(this.program).has(scene) || this.#visible(this.preview).has(scene);
  }

  /** Forgets everything (a new connection: the scene collection may have changed). */
  reset(): void {
    this.#items.clear();
    this.#groups.clear();
  }

  /** Records a scene's items. */
  learn(scene: string, items: SceneItems): void {
    if (!this.#items.has(scene) && this.#items.size >= MAX_SCENES) {
      // Full: the scenes off air go (asked for again if they come on air).
      const onAir = new Set([...this.#visible(this.program), ...this.#visible(this.preview)]);
      for (const known of [...this.#items.keys()]) if (!onAir.has(known)) this.#items.delete(known);
      if (!onAir.has(scene)) return;
    }
    this.#items.set(scene, items);
    for (const group of items.groups) this.#groups.add(group);
  }

  /** Whether `name` is a group (its items are asked for with GetGroupSceneItemList). */
  isGroup(name: string): boolean {
    return this.#groups.has(name);
  }

  /** Scenes on air (or nested in one) whose items are not known yet: to request. */
  missing(): string[] {
    const all = new Set([...this.#visible(this.program), ...this.#visible(this.preview)]);
    return [...all].filter((s) => !this.#items.has(s));
  }

  /** Every key and its state: program wins over preview. */
  state(): Map<string, KeyState> {
    const state = new Map<string, KeyState>();
    for (const key of this.#keys(this.preview)) state.set(key, 'preview');
    for (const key of this.#keys(this.program)) state.set(key, 'program');
    return state;
  }

  /**
   * A scene and the scenes nested in it (known so far), to MAX_DEPTH, at most MAX_VISIBLE.
   * Breadth first: each scene is met first at its shallowest depth, so one reached both deep
   * and shallow still has its own nested scenes followed.
   */
  #visible(scene: string | undefined): Set<string> {
    const seen = new Set<string>();
    if (scene === undefined) return seen;
    seen.add(scene);
    let level = [scene];
    for (let depth = 1; depth <= MAX_DEPTH && level.length > 0; depth++) {
      const next: string[] = [];
      for (const s of level)
        for (const nested of this.#items.get(s)?.scenes ?? []) {
          if (seen.has(nested)) continue;
          if (seen.size >= MAX_VISIBLE) return seen;
          seen.add(nested);
          next.push(nested);
        }
      level = next;
    }
    return seen;
  }

  #keys(scene: string | undefined): Set<string> {
    const keys = new Set<string>();
    for (const s of this.#visible(scene)) {
      keys.add(s);
      for (const source of this.#items.get(s)?.sources ?? []) keys.add(source);
    }
    return keys;
  }
}
