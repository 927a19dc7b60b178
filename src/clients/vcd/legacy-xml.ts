// The legacy /api surface answers in XML (vCloud 1.5 namespace): tasks, and its error documents.
// One parser for both, with attributes kept as plain strings and namespace prefixes dropped.
import { XMLParser } from 'fast-xml-parser';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  textNodeName: '#text',
});

/** The document's elements as nested records; {} for text that is not XML. */
export function parseLegacyXml(body: string): Record<string, unknown> {
  if (!body.trimStart().startsWith('<')) return {};
  try {
    const doc: unknown = parser.parse(body);
    return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The attributes of a legacy `<Error>` document (minorErrorCode, message, majorErrorCode), if the body is one. */
export function legacyErrorOf(body: string): Record<string, unknown> | undefined {
  const e = parseLegacyXml(body)['Error'];
  return typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Record<string, unknown>) : undefined;
}
