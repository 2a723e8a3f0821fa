import type { AssetReader } from '@punch/core';

/**
 * The built web app from the Workers static-assets binding, as core's `AssetReader`: the same
 * pages, headers and routes as on Node (`mountPages`).
 */
export function assetReader(assets: Fetcher): AssetReader {
  return async (path) => {
    const res = await assets.fetch(new Request(`https://assets.local/${path}`));
    if (!res.ok) return null;
    return new Uint8Array(await res.arrayBuffer());
  };
}
