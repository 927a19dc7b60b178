// URLs as shown to people (logs, errors, conditions): without the user name and password a URL
// may carry before its host. Admission refuses such URLs for connections; this is the second line.

const USERINFO = /^([^:/?#]+:\/\/)[^/?#]*@/;

/** `url` without `user:password@`; unchanged when it has none, also when it does not parse. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1');
}

/** The password (or lone user name) in `url`'s userinfo, decoded, so it can be scrubbed from server text. */
export function urlUserinfoSecret(url: string): string | undefined {
  const m = /^[^:/?#]+:\/\/([^/?#]*)@/.exec(url);
  if (!m?.[1]) return undefined;
  const info = m[1];
  const colon = info.indexOf(':');
  const raw = colon >= 0 ? info.slice(colon + 1) : info;
  try {
    return decodeURIComponent(raw) || undefined;
  } catch {
    return raw || undefined;
  }
}
