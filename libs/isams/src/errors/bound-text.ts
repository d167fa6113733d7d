/** The longest text taken from an iSAMS server (message, element name, header value) we keep. */
export const SERVER_TEXT_MAX_CHARS = 500;

// C0 and C1 control characters (tab, newline and carriage return included: these texts are shown
// on one line), DEL, and lone UTF-16 surrogates (they break JSON consumers and log shippers).
const CONTROL =
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Makes text that came from an iSAMS server safe to keep in a run record, an event, an API answer
 * or a log line: control characters become spaces and anything past `max` characters is cut, with
 * a marker saying how much was left out (`…[+4999520 chars]`; the result, marker included, is at
 * most `max` characters). The cut never splits a surrogate pair.
 */
export function boundText(text: string, max: number = SERVER_TEXT_MAX_CHARS): string {
  // Cleaning a 5 MB string only to cut it to 500 characters would cost 5 MB: cut first.
  const head = text.length > max ? text.slice(0, max + 1) : text;
  const clean = head.replace(CONTROL, ' ');
  if (text.length <= max) return clean;
  // The marker counts towards `max`: `…[+` and `chars]` plus the number.
  let keep = Math.max(0, max - `…[+${text.length} chars]`.length);
  if (/[\ud800-\udbff]/.test(clean.charAt(keep - 1))) keep -= 1;
  return `${clean.slice(0, keep)}…[+${text.length - keep} chars]`;
}

/** {@link boundText} for every string in a details object (one level deep, and string arrays). */
export function boundDetails(
  details: Record<string, unknown>,
  max: number = SERVER_TEXT_MAX_CHARS,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'string') out[key] = boundText(value, max);
    else if (Array.isArray(value))
      out[key] = value.slice(0, 100).map((v: unknown) => (typeof v === 'string' ? boundText(v, max) : v));
    else out[key] = value;
  }
  return out;
}
