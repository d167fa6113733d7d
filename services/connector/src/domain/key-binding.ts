import { ConnectorErrors } from './connector-errors';

/**
 * What a stored iSAMS key is bound to: its school and the origin of the iSAMS address it was entered
 * for. Both go into the AES-GCM associated data, so the key decrypts only for that school and host.
 */
export interface KeyBinding {
  tenantId: string;
  /** `scheme://host[:port]`, see {@link isamsOrigin}. */
  origin: string;
}

/**
 * The origin a key is bound to: scheme, host and port of a normalised iSAMS address (the WHATWG URL
 * origin: host lowercased, IDN as punycode, the default port dropped). The path is not part of it —
 * the key is sent to the same server whatever the path.
 */
export function isamsOrigin(isamsUrl: string): string {
  return new URL(isamsUrl).origin.toLowerCase();
}

/** How a new iSAMS address relates to the stored one. */
export type AddressChange = 'first' | 'unchanged' | 'same-host' | 'new-host';

export function addressChange(previousUrl: string | undefined, nextUrl: string): AddressChange {
  if (previousUrl === undefined) return 'first';
  if (previousUrl === nextUrl) return 'unchanged';
  return isamsOrigin(previousUrl) === isamsOrigin(nextUrl) ? 'same-host' : 'new-host';
}

/**
 * The stored key may be used for `targetUrl` only when it is on the stored address's host; anything
 * else needs the key entered again (`CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS`).
 */
export function assertStoredKeyUsableFor(storedUrl: string, targetUrl: string): void {
  if (isamsOrigin(storedUrl) !== isamsOrigin(targetUrl))
    throw ConnectorErrors.CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS();
}
