// The legacy /api surface speaks XML in the vCloud 1.5 namespace (what govcd decodes), unless the
// client asks for JSON. These helpers keep the rendering in one place.
import type { SimRequest, SimResponse } from '../core/types.ts';

export const VCLOUD_NS = 'http://www.vmware.com/vcloud/v1.5';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
}

/** `name="value"` pairs, skipping undefined values. */
export function attrs(pairs: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(pairs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${esc(String(v))}"`)
    .join(' ');
}

/** Whether a request is to the legacy API and wants XML (the default there). */
export function wantsLegacyXml(req: SimRequest): boolean {
  return (req.path === '/api' || req.path.startsWith('/api/')) && !/json/i.test(req.headers['accept'] ?? '');
}

/** A legacy XML document answer with the media type VCD names it by. */
export function xmlResponse(status: number, mediaType: string, version: string, body: string): SimResponse {
  return { status, headers: { 'content-type': `${mediaType};version=${version}` }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n` };
}

/** VCD's legacy error document: what govcd parses for any /api failure. */
export function errorXml(status: number, minorErrorCode: string, message: string): SimResponse {
  const body = `<Error ${attrs({ xmlns: VCLOUD_NS, minorErrorCode, message, majorErrorCode: status, stackTrace: '' })}/>`;
  return xmlResponse(status, 'application/vnd.vmware.vcloud.error+xml', '37.0', body);
}
