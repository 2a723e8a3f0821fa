import { useEffect, useState } from 'preact/hooks';

/** Moves to `path` inside the app (no reload). */
export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The current path, updated on back/forward and `navigate`. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = (): void => {
      setPath(location.pathname);
    };
    addEventListener('popstate', on);
    return () => {
      removeEventListener('popstate', on);
    };
  }, []);
  return path;
}
