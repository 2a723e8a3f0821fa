import { useEffect, useState } from 'preact/hooks';
import { explain } from './api.js';

/**
 * Runs `load` when `deps` change and keeps its answer or its error (as a sentence); an answer
 * that arrives after the component moved on is dropped.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
): { data: T | null; error: string | null } {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({
    data: null,
    error: null,
  });
  useEffect(() => {
    let live = true;
    load().then(
      (data) => {
        if (live) setState({ data, error: null });
      },
      (err: unknown) => {
        if (live) setState({ data: null, error: explain(err) });
      },
    );
    return () => {
      live = false;
    };
    // `deps` is the caller's list, as for useEffect.
  }, deps);
  return state;
}
