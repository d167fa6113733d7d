/**
 * Removes the Batch API key from any text before it reaches an error, a log line or an exception
 * message. The key travels in the query string, so URLs are the usual carrier; a key that is known
 * is also removed verbatim (braced, bare and URL-encoded forms).
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&]api[_-]?key=)[^&#\s]*/gi, '$1[REDACTED]');
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Redacts the key (if given) and any `apiKey=` query value from `text`. */
export function redactSecrets(text: string, apiKey?: string): string {
  let out = redactUrl(text);
  if (apiKey !== undefined && apiKey.length > 0) {
    const bare = apiKey.replace(/^\{|\}$/g, '');
    const forms = new Set([apiKey, encodeURIComponent(apiKey), bare, encodeURIComponent(bare)]);
    // Case-insensitively: a server may echo a GUID key in lower case, or its escapes as `%7b`.
    for (const form of forms) {
      if (form.length >= 4) out = out.replace(new RegExp(escapeRegExp(form), 'gi'), '[REDACTED]');
    }
    out = redactCutKey(out, forms);
  }
  return out;
}

const CUT_MARKER = '…[+';

/**
 * Text bounded by `boundText` may end in the middle of the key (`…{B0B0-11…[+4 chars]`): the start
 * of a key form right before a cut marker is redacted too.
 */
function redactCutKey(text: string, forms: ReadonlySet<string>): string {
  let out = text;
  for (let at = out.indexOf(CUT_MARKER); at >= 0; at = out.indexOf(CUT_MARKER, at + CUT_MARKER.length)) {
    for (const form of forms) {
      for (let k = Math.min(form.length - 1, at); k >= 4; k--) {
        // Case-insensitively, as the whole forms: a GUID echoed in lower case and then cut.
        if (out.slice(at - k, at).toLowerCase() === form.slice(0, k).toLowerCase()) {
          out = `${out.slice(0, at - k)}[REDACTED]${out.slice(at)}`;
          at += '[REDACTED]'.length - k;
          break;
        }
      }
    }
  }
  return out;
}
