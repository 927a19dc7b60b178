// OpenSSL's subject hash (`openssl x509 -hash`, X509_NAME_hash_ex), which names the files in
// download.zip's certs/lin/<hash>.0 so the folder works as an OpenSSL CApath. The hash is the
// first four bytes (little-endian) of the SHA-1 of the subject's canonical encoding: every RDN
// SET re-encoded without the outer SEQUENCE, string values as UTF8String, trimmed, inner
// whitespace collapsed and ASCII lower-cased.
import { X509Certificate, createHash } from 'node:crypto';

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  offset: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

/** Tags whose values OpenSSL canonicalises (ASN1_MASK_CANON). */
const UTF8 = 0x0c;
const LATIN1_TAGS = new Set([0x13 /* Printable */, 0x14 /* T61 */, 0x16 /* IA5 */, 0x1a /* Visible */]);
const BMP = 0x1e;
const UNIVERSAL = 0x1c;

export function opensslSubjectHash(certPem: string): string {
  const der = new X509Certificate(certPem).raw;
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.start);
  let fields = children(der, tbs);
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1); // explicit version
  const subject = fields[4]; // serial, signature, issuer, validity, subject
  if (!subject || subject.tag !== 0x30) throw new Error('certificate has no subject');

  const canon = Buffer.concat(
    children(der, subject).map((rdn) => {
      const entries = children(der, rdn).map((atv) => {
        const [oid, value] = children(der, atv);
        if (!oid || !value) throw new Error('malformed AttributeTypeAndValue');
        return encode(0x30, Buffer.concat([der.subarray(oid.offset, oid.end), canonicalValue(der, value)]));
      });
      // DER SET OF: elements in ascending order of their encodings.
      return encode(0x31, Buffer.concat(entries.sort((x, y) => Buffer.compare(x, y))));
    }),
  );
  const md = createHash('sha1').update(canon).digest();
  return md.readUInt32LE(0).toString(16).padStart(8, '0');
}

function canonicalValue(der: Buffer, value: Tlv): Buffer {
  const raw = der.subarray(value.start, value.end);
  let text: string;
  if (value.tag === UTF8) text = raw.toString('utf8');
  else if (LATIN1_TAGS.has(value.tag)) text = raw.toString('latin1');
  else if (value.tag === BMP) text = Buffer.from(raw).swap16().toString('utf16le');
  else if (value.tag === UNIVERSAL) text = String.fromCodePoint(...Array.from({ length: raw.length / 4 }, (_, i) => raw.readUInt32BE(i * 4)));
  else return der.subarray(value.offset, value.end);
  const bytes = Buffer.from(text, 'utf8');
  const out: number[] = [];
  const space = (b: number | undefined): boolean => b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d);
  let from = 0;
  let to = bytes.length;
  while (from < to && space(bytes[from])) from++;
  while (to > from && space(bytes[to - 1])) to--;
  for (let i = from; i < to;) {
    const b = bytes[i] as number;
    if (b >= 0x80) {
      out.push(b);
      i++;
    } else if (space(b)) {
      out.push(0x20);
      while (i < to && space(bytes[i])) i++;
    } else {
      out.push(b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
      i++;
    }
  }
  return encode(UTF8, Buffer.from(out));
}

function readTlv(buf: Buffer, offset: number): Tlv {
  const tag = buf[offset];
  let lenByte = buf[offset + 1];
  if (tag === undefined || lenByte === undefined) throw new Error('truncated DER');
  let pos = offset + 2;
  let len = lenByte;
  if (lenByte & 0x80) {
    const n = lenByte & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) {
      lenByte = buf[pos++];
      if (lenByte === undefined) throw new Error('truncated DER length');
      len = len * 256 + lenByte;
    }
  }
  if (pos + len > buf.length) throw new Error('DER length beyond buffer');
  return { tag, offset, start: pos, end: pos + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.start; pos < parent.end;) {
    const child = readTlv(buf, pos);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function encode(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let header: number[];
  if (len < 0x80) header = [tag, len];
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
    header = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(header), content]);
}
