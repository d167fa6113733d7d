/**
 * Removes the Batch API key from any text before it reaches an error, a log line or an exception
 * message. The key travels in the query string, so URLs are the usual carrier; a key that is known
 * is also removed verbatim (braced, bare and URL-encoded forms).
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&]api[_-]?key=)[^&#\s]*/gi, '$1[REDACTED]');
}

/** Redacts the key (if given) and any `apiKey=` query value from `text`. */
export function redactSecrets(text: string, apiKey?: string): string {
  let out = redactUrl(text);
  if (apiKey !== undefined && apiKey.length > 0) {
    const bare = apiKey.replace(/^\{|\}$/g, '');
    const forms = new Set([apiKey, encodeURIComponent(apiKey), bare, encodeURIComponent(bare)]);
    for (const form of forms) {
      if (form.length >= 4) out = out.split(form).join('[REDACTED]');
    }
  }
  return out;
}
