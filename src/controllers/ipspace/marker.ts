// The ownership marker of an IP Space: the last line of its VCD description names the cluster,
// the IPSpace's namespace/name and UID. It is how the operator recognises the IP Space it created
// when its own record of the id was lost (a crash, a dropped create response), and why it never
// mistakes someone else's IP Space of the same name for its own.

const PREFIX = 'vcd-operator.io';
const KIND = 'IPSpace';

export interface IPSpaceMarker {
  clusterId: string;
  namespace: string;
  name: string;
  uid: string;
}

export function formatMarker(m: IPSpaceMarker): string {
  return `${PREFIX} cluster=${m.clusterId} ${KIND}=${m.namespace}/${m.name} uid=${m.uid}`;
}

const pattern = new RegExp(`^${PREFIX.replace('.', '\\.')} cluster=(\\S+) ${KIND}=([^/\\s]+)/(\\S+) uid=(\\S+)$`);

export function parseMarker(line: string | undefined): IPSpaceMarker | undefined {
  const m = line ? pattern.exec(line.trim()) : null;
  if (!m) return undefined;
  const [, clusterId, namespace, name, uid] = m;
  if (!clusterId || !namespace || !name || !uid) return undefined;
  return { clusterId, namespace, name, uid };
}

/** Splits a VCD description into the human text and the marker on its last line, if any. */
export function splitDescription(description: string | undefined): { text: string; marker: IPSpaceMarker | undefined } {
  const d = description ?? '';
  const i = d.lastIndexOf('\n');
  const last = i < 0 ? d : d.slice(i + 1);
  const marker = parseMarker(last);
  if (!marker) return { text: d, marker: undefined };
  return { text: i < 0 ? '' : d.slice(0, i), marker };
}

/** The description to write: the human text, then the marker line. */
export function joinDescription(text: string, marker: IPSpaceMarker): string {
  return text ? `${text}\n${formatMarker(marker)}` : formatMarker(marker);
}

/** Whether the marker names exactly this object of this cluster (a recreated object has a new UID). */
export function isOurs(marker: IPSpaceMarker | undefined, me: IPSpaceMarker): boolean {
  return marker !== undefined && marker.clusterId === me.clusterId && marker.uid === me.uid;
}
