// Paging of CloudAPI lists: follow Link rel="nextPage", and when a server omits it (a known VCD
// bug on some endpoints), fall back to the page count from resultTotal.

export const MAX_PAGE_SIZE = 128;

export interface PageEnvelope<T> {
  resultTotal?: number;
  pageCount?: number;
  page?: number;
  pageSize?: number;
  values?: T[];
}

export interface LinkRef {
  href: string;
  rels: string[];
}

/** Parses an HTTP Link header: `<url>;rel="nextPage lastPage";type="..."` entries, comma separated. */
export function parseLinkHeader(header: string | undefined): LinkRef[] {
  if (!header) return [];
  const out: LinkRef[] = [];
  // Split on commas that start a new <...> entry; URLs may themselves contain commas (FIQL OR).
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>(.*)/s.exec(part.trim());
    if (!m) continue;
    const href = m[1] ?? '';
    const params = m[2] ?? '';
    const rel = /;\s*rel\s*=\s*"([^"]*)"|;\s*rel\s*=\s*([^;\s]+)/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').split(/\s+/).filter(Boolean);
    out.push({ href, rels });
  }
  return out;
}

export type NextPage = { kind: 'link'; href: string } | { kind: 'page'; page: number } | undefined;

/** Where the next page is, given the page just read and its Link header; undefined at the end. */
export function nextPage(envelope: PageEnvelope<unknown>, linkHeader: string | undefined, requested: { page: number; pageSize: number }): NextPage {
  const link = parseLinkHeader(linkHeader).find((l) => l.rels.includes('nextPage'));
  if (link) return { kind: 'link', href: link.href };
  const page = envelope.page ?? requested.page;
  const pageSize = envelope.pageSize ?? requested.pageSize;
  const pageCount = envelope.pageCount ?? (envelope.resultTotal !== undefined && pageSize > 0 ? Math.ceil(envelope.resultTotal / pageSize) : undefined);
  if (pageCount !== undefined && page < pageCount && (envelope.values?.length ?? 0) > 0) return { kind: 'page', page: page + 1 };
  return undefined;
}
