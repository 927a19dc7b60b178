// Matches a request path against route patterns with `{name}` segments. Literal segments beat
// parameters (so /ipSpaces/summaries wins over /ipSpaces/{id}), whatever the declaration order.
import type { HttpMethod, Route } from './types.ts';

interface Compiled {
  route: Route;
  segments: Array<{ literal: string } | { param: string }>;
  /** One digit per segment, 1 for literal: compared as strings, higher is more specific. */
  rank: string;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  #byMethod = new Map<HttpMethod, Compiled[]>();

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const segments = split(route.pattern).map((s) => {
        const m = /^\{(\w+)\}$/.exec(s);
        return m ? { param: m[1] as string } : { literal: s };
      });
      const compiled: Compiled = { route, segments, rank: segments.map((s) => ('literal' in s ? '1' : '0')).join('') };
      const list = this.#byMethod.get(route.method) ?? [];
      list.push(compiled);
      this.#byMethod.set(route.method, list);
    }
    for (const list of this.#byMethod.values()) list.sort((a, b) => (a.rank < b.rank ? 1 : a.rank > b.rank ? -1 : 0));
  }

  match(method: HttpMethod, path: string): RouteMatch | undefined {
    const parts = split(path);
    for (const c of this.#byMethod.get(method) ?? []) {
      if (c.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = c.segments[i] as Compiled['segments'][number];
        const part = parts[i] as string;
        if ('literal' in seg) ok = seg.literal === part;
        else {
          try {
            params[seg.param] = decodeURIComponent(part);
          } catch {
            ok = false;
          }
        }
      }
      if (ok) return { route: c.route, params };
    }
    return undefined;
  }

  /** Whether some other method serves this path (so the service can answer 405 rather than 404). */
  pathKnown(path: string): boolean {
    for (const method of this.#byMethod.keys()) if (this.match(method, path)) return true;
    return false;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}
