import type { Router } from 'express';

interface Layer {
  readonly route?: { readonly path: string | readonly string[]; readonly methods: Readonly<Record<string, boolean>> };
  readonly handle?: { readonly stack?: readonly Layer[] };
  match(path: string): boolean;
}

export interface RouteEntry {
  readonly method: string;
  readonly path: string;
}

const SAFE = new Set(['get', 'head', 'options']);
const NOWHERE = '/no-such-mount-point-in-any-router';

/** The prefix a sub-router's layer is mounted at: '' for `use(router)`, else one of `mounts`. */
function prefixOf(layer: Layer, mounts: readonly string[]): string {
  if (layer.match(NOWHERE)) return '';
  const mount = mounts.find((candidate) => layer.match(candidate));
  if (mount === undefined) throw new Error(`a router is mounted at a path the test does not know: add it to mounts (${mounts.join(', ')})`);
  return mount;
}

/**
 * Every state-changing route of `router` and the routers mounted in it, read from the Express
 * stack (4 and 5 alike), so that a route added later is tested without editing a list.
 */
export function stateChangingRoutes(router: Router, mounts: readonly string[] = [], prefix = ''): RouteEntry[] {
  const found: RouteEntry[] = [];
  for (const layer of (router as unknown as { stack: readonly Layer[] }).stack) {
    if (layer.route) {
      const paths = typeof layer.route.path === 'string' ? [layer.route.path] : layer.route.path;
      for (const method of Object.keys(layer.route.methods).filter((m) => !SAFE.has(m))) {
        for (const path of paths) found.push({ method: method === '_all' ? 'post' : method, path: prefix && path === '/' ? prefix : prefix + path });
      }
    } else if (layer.handle?.stack) {
      found.push(...stateChangingRoutes(layer.handle as unknown as Router, mounts, prefix + prefixOf(layer, mounts)));
    }
  }
  // One entry per route: a path registered twice (a handler that passes some requests on) is one route.
  return found.filter((entry, i) => found.findIndex((other) => other.method === entry.method && other.path === entry.path) === i);
}

/** The path with its `:params` filled in. */
export function filled(path: string, params: Readonly<Record<string, string>>): string {
  return path.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${path}`);
    return value;
  });
}
