// VCD's page envelope: page/pageSize (capped at 128), resultTotal, pageCount, and navigation in
// the Link header (rel="nextPage" etc.) carrying the same filter and sort.
import type { SimRequest, SimResponse } from '../core/types.ts';
import { badRequest } from './errors.ts';
import { matchesFiql, parseFiql, type Fiql } from './fiql.ts';

export const MAX_PAGE_SIZE = 128;
export const DEFAULT_PAGE_SIZE = 25;

export function readFilter(req: SimRequest): Fiql | undefined {
  const f = req.query.get('filter');
  return f === null || f.trim() === '' ? undefined : parseFiql(f.trim());
}

export function pageParams(req: SimRequest): { page: number; pageSize: number } {
  const page = intParam(req, 'page', 1);
  const size = intParam(req, 'pageSize', DEFAULT_PAGE_SIZE);
  if (page < 1) throw badRequest('page must be 1 or greater');
  if (size < 0) throw badRequest('pageSize must not be negative');
  return { page, pageSize: Math.min(size, MAX_PAGE_SIZE) };
}

function intParam(req: SimRequest, name: string, dflt: number): number {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return dflt;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`${name} must be an integer`);
  return Number(raw);
}

export interface PageOptions {
  /** The definition name of the list items, for the Link header's model attribute. */
  model: string;
  /** Base URL of this listener as the client addressed it (https://host:port). */
  base: string;
  /** Filter already applied by the caller (required filters consumed), or the request's filter. */
  filter?: Fiql | undefined;
}

/** Filters, sorts and pages rendered items; returns the response with the page envelope. */
export function pagedResponse(req: SimRequest, items: readonly object[], opts: PageOptions): SimResponse {
  const filter = 'filter' in opts ? opts.filter : readFilter(req);
  let list = filter ? items.filter((i) => matchesFiql(filter, i)) : [...items];
  const sortAsc = req.query.get('sortAsc');
  const sortDesc = req.query.get('sortDesc');
  if (sortAsc || sortDesc) {
    const key = (sortAsc ?? sortDesc) as string;
    const dir = sortAsc ? 1 : -1;
    list = list.sort((a, b) => dir * compare((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
  }
  const { page, pageSize } = pageParams(req);
  const total = list.length;
  const pageCount = pageSize === 0 ? 0 : Math.ceil(total / pageSize);
  const values = pageSize === 0 ? [] : list.slice((page - 1) * pageSize, page * pageSize);
  const links: string[] = [];
  const link = (p: number, rel: string): void => {
    const q = new URLSearchParams(req.query);
    q.set('page', String(p));
    q.set('pageSize', String(pageSize));
    links.push(`<${opts.base}${req.path}?${q.toString()}>;rel="${rel}";type="application/json";model="${opts.model}"`);
  };
  if (pageCount > 0) {
    link(1, 'firstPage');
    if (page > 1) link(Math.min(page - 1, pageCount), 'previousPage');
    if (page < pageCount) link(page + 1, 'nextPage');
    link(pageCount, 'lastPage');
  }
  return {
    status: 200,
    headers: links.length > 0 ? { link: links.join(', ') } : {},
    body: { resultTotal: total, pageCount, page, pageSize, associations: [], values },
  };
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
  return text(a).localeCompare(text(b));
}
