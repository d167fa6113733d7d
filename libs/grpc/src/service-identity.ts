import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '@isams-sync/errors';

/**
 * Service-to-service identity: every gRPC call carries a short-lived token, signed with HMAC-SHA256
 * under a key that only the calling service and the called service hold (one key per caller→callee
 * pair), naming the caller (`iss`), the callee (`aud`), the method (`mth`) and the school the call
 * acts for (`sub`, or `*` for the few platform-operator methods). The callee verifies it before any
 * handler runs and takes the school from it — never from a bare header. See docs/security.md.
 */

/** A service (or operator) name: lower-case letters and digits, starting with a letter. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9]{0,31}$/;
/** The `sub` of a token for a tenant-free (platform-operator) method. */
export const ANY_TENANT = '*';
/** Metadata key carrying the service token (`Bearer <token>`). */
export const AUTHORIZATION_KEY = 'authorization';
/** Lifetime of the tokens {@link mintServiceToken} makes by default (they are minted per call). */
export const DEFAULT_TOKEN_TTL_SECONDS = 60;
/** Longest lifetime a verifier accepts (`exp - iat`), e.g. for a token minted by hand for grpcurl. */
export const MAX_TOKEN_TTL_SECONDS = 300;
/** Clock difference tolerated between caller and callee. */
export const CLOCK_SKEW_SECONDS = 30;
/** Minimum key size in bytes. */
export const MIN_KEY_BYTES = 32;

/**
 * Who calls whom in isams-sync: one key per pair. The chart generates these keys, `startSystem` and
 * the dev tools write them to a directory; a pair not listed here has no key, so cannot call.
 */
export const SERVICE_CALLS: ReadonlyArray<readonly [caller: string, callee: string]> = Object.freeze([
  ['gateway', 'connector'],
  ['gateway', 'roster'],
  ['gateway', 'bookings'],
  ['bookings', 'roster'],
  ['operator', 'connector'],
] as const);

/** The file (and Secret key) name of a pair's key: `<caller>-to-<callee>.key`. */
export function serviceKeyFileName(caller: string, callee: string): string {
  return `${caller}-to-${callee}.key`;
}
const KEY_FILE_PATTERN = /^([a-z][a-z0-9]{0,31})-to-([a-z][a-z0-9]{0,31})\.key$/;

/** The keys one service holds: to sign calls it makes and to verify calls it receives. */
export interface ServiceKeyring {
  /** This service's name (the `iss` of its calls, the `aud` it accepts). */
  readonly self: string;
  /** Per callee: keys to sign with (the first signs; the rest exist for rotation). */
  readonly signing: ReadonlyMap<string, readonly Buffer[]>;
  /** Per caller: keys any of which may have signed a token addressed to this service. */
  readonly verifying: ReadonlyMap<string, readonly Buffer[]>;
}

/** The verified identity of an inbound call. */
export interface VerifiedCaller {
  /** The calling service (`iss`). */
  service: string;
  /** The school the token names (`sub`, not yet checked for form); undefined for `*`. */
  tenantId?: string;
}

/** Stable error codes of identity failures (sent in `x-error-code`). */
export const IDENTITY_ERRORS = {
  missing: 'GRPC_SERVICE_IDENTITY_REQUIRED',
  invalid: 'GRPC_SERVICE_TOKEN_INVALID',
  callerNotAllowed: 'GRPC_CALLER_NOT_ALLOWED',
  tenantMismatch: 'GRPC_TENANT_MISMATCH',
} as const;

function assertServiceName(name: string, what: string): void {
  if (!SERVICE_NAME_PATTERN.test(name))
    throw new Error(`${what} "${name}" is not a service name (${String(SERVICE_NAME_PATTERN)})`);
}

/** Parses a key file: one base64 key per line (blank lines and `#` comments ignored), each ≥ 32 bytes. */
export function parseKeyFile(text: string, fileName: string): Buffer[] {
  const keys = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line, i) => {
      const key = Buffer.from(line, 'base64');
      if (key.length < MIN_KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== line.replace(/=+$/, ''))
        throw new Error(`${fileName}: key ${i + 1} is not base64 of at least ${MIN_KEY_BYTES} bytes`);
      return key;
    });
  if (keys.length === 0) throw new Error(`${fileName}: holds no key`);
  return keys;
}

/**
 * Reads `self`'s keys from a directory of `<caller>-to-<callee>.key` files (a mounted Secret, or a
 * directory written by {@link writeServiceKeys}). Files of pairs `self` is not part of are ignored;
 * a malformed file of its own fails start-up with a message naming the file (never the key).
 */
export function loadServiceKeyring(dir: string, self: string): ServiceKeyring {
  assertServiceName(self, 'Service');
  const signing = new Map<string, Buffer[]>();
  const verifying = new Map<string, Buffer[]>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new Error(`Cannot read the service identity key directory ${dir}`, { cause: err });
  }
  for (const name of names.sort()) {
    const match = KEY_FILE_PATTERN.exec(name);
    if (!match) continue;
    const [, caller, callee] = match as unknown as [string, string, string];
    if (caller !== self && callee !== self) continue;
    const keys = parseKeyFile(readFileSync(join(dir, name), 'utf8'), name);
    if (caller === self) signing.set(callee, keys);
    if (callee === self) verifying.set(caller, keys);
  }
  return { self, signing, verifying };
}

/** A keyring from in-memory keys (tests, tools): `keys` maps `"<caller>-to-<callee>"` to its keys. */
export function serviceKeyringFrom(self: string, keys: Record<string, readonly Buffer[]>): ServiceKeyring {
  assertServiceName(self, 'Service');
  const signing = new Map<string, readonly Buffer[]>();
  const verifying = new Map<string, readonly Buffer[]>();
  for (const [pair, list] of Object.entries(keys)) {
    const match = KEY_FILE_PATTERN.exec(`${pair}.key`);
    if (!match) throw new Error(`"${pair}" is not <caller>-to-<callee>`);
    const [, caller, callee] = match as unknown as [string, string, string];
    if (caller === self) signing.set(callee, list);
    if (callee === self) verifying.set(caller, list);
  }
  return { self, signing, verifying };
}

/** Fresh random keys (32 bytes) for each pair, keyed `"<caller>-to-<callee>"`. */
export function generateServiceKeys(
  calls: ReadonlyArray<readonly [string, string]> = SERVICE_CALLS,
): Record<string, Buffer[]> {
  return Object.fromEntries(calls.map(([caller, callee]) => [`${caller}-to-${callee}`, [randomBytes(32)]]));
}

/**
 * Writes fresh keys for every pair of `calls` into `dir` (created if needed; files mode 0600) — the
 * dev/test counterpart of the chart's generated Secret. Returns `dir`.
 */
export function writeServiceKeys(
  dir: string,
  calls: ReadonlyArray<readonly [string, string]> = SERVICE_CALLS,
): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [pair, keys] of Object.entries(generateServiceKeys(calls)))
    writeFileSync(join(dir, `${pair}.key`), `${keys.map((k) => k.toString('base64')).join('\n')}\n`, {
      mode: 0o600,
    });
  return dir;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

interface TokenClaims {
  iss: string;
  aud: string;
  sub: string;
  mth: string;
  iat: number;
  exp: number;
}

function sign(key: Buffer, signingInput: string): Buffer {
  return createHmac('sha256', key).update(signingInput).digest();
}

/** Options of {@link mintServiceToken}. */
export interface MintOptions {
  /** The callee service. */
  audience: string;
  /** Full method path, e.g. `/isams_sync.roster.v1.RosterService/GetEntity`. */
  method: string;
  /** The school the call acts for, or {@link ANY_TENANT} for a tenant-free method. */
  tenant: string;
  /** Seconds; default {@link DEFAULT_TOKEN_TTL_SECONDS}, at most {@link MAX_TOKEN_TTL_SECONDS}. */
  ttlSeconds?: number;
  /** Clock (tests). */
  now?: () => number;
}

/**
 * A compact JWT (HS256) for one call from `keyring.self` to `options.audience`. Throws when this
 * service holds no key for that callee (it is not meant to call it).
 */
export function mintServiceToken(keyring: ServiceKeyring, options: MintOptions): string {
  const key = keyring.signing.get(options.audience)?.[0];
  if (key === undefined)
    throw new Error(`Service "${keyring.self}" holds no key to call "${options.audience}"`);
  const ttl = Math.min(MAX_TOKEN_TTL_SECONDS, Math.max(1, options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS));
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  const claims: TokenClaims = {
    iss: keyring.self,
    aud: options.audience,
    sub: options.tenant,
    mth: options.method,
    iat,
    exp: iat + ttl,
  };
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signingInput}.${sign(key, signingInput).toString('base64url')}`;
}

/** Longest claimed caller (`iss`, unverified) a {@link ServiceTokenError} keeps for the log. */
const CLAIMED_CALLER_MAX_CHARS = 64;

/**
 * A refused service token: sent as `UNAUTHENTICATED` / `GRPC_SERVICE_TOKEN_INVALID` / "Service token
 * is not valid" with no details, so a forger does not learn which check failed. `reason` (`malformed`,
 * `unknown caller`, `bad signature`, `wrong audience`, `wrong method`, `lifetime too long`, `issued in
 * the future`, `expired`) and the caller the token claims to be are for the server's log only.
 */
export class ServiceTokenError extends AppError {
  /** Which check failed. Never sent. */
  readonly reason: string;
  /** The token's `iss` (unverified; cut to 64 characters), when it could be read. Never sent. */
  readonly claimedCaller?: string;

  constructor(reason: string, claimedCaller?: string) {
    super({ code: IDENTITY_ERRORS.invalid, kind: 'unauthenticated', message: 'Service token is not valid' });
    this.reason = reason;
    if (claimedCaller !== undefined)
      this.claimedCaller =
        claimedCaller.length > CLAIMED_CALLER_MAX_CHARS
          ? `${claimedCaller.slice(0, CLAIMED_CALLER_MAX_CHARS)}…`
          : claimedCaller;
  }
}

function invalid(reason: string, claims?: TokenClaims): ServiceTokenError {
  return new ServiceTokenError(reason, claims?.iss);
}

function parseClaims(part: string): TokenClaims | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const c = value as Record<string, unknown>;
    const strings = ['iss', 'aud', 'sub', 'mth'].every((k) => typeof c[k] === 'string');
    const numbers = ['iat', 'exp'].every((k) => Number.isSafeInteger(c[k]));
    return strings && numbers ? (c as unknown as TokenClaims) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a token addressed to `keyring.self` for `method`: signature under a key of the claimed
 * caller, audience, method, time window and lifetime (the `sub` is the caller's to check). Throws a
 * {@link ServiceTokenError} (`GRPC_SERVICE_TOKEN_INVALID`; the reason is on the error, not in its details).
 */
export function verifyServiceToken(
  keyring: ServiceKeyring,
  token: string,
  method: string,
  now: () => number = Date.now,
): VerifiedCaller {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== HEADER) throw invalid('malformed');
  const [header, payload, signature] = parts as [string, string, string];
  const claims = parseClaims(payload);
  if (claims === undefined) throw invalid('malformed');
  const keys = keyring.verifying.get(claims.iss);
  if (keys === undefined) throw invalid('unknown caller', claims);
  const given = Buffer.from(signature, 'base64url');
  const signingInput = `${header}.${payload}`;
  const signed = keys.some((key) => {
    const expected = sign(key, signingInput);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!signed) throw invalid('bad signature', claims);
  if (claims.aud !== keyring.self) throw invalid('wrong audience', claims);
  if (claims.mth !== method) throw invalid('wrong method', claims);
  const nowSeconds = Math.floor(now() / 1000);
  if (claims.exp <= claims.iat || claims.exp - claims.iat > MAX_TOKEN_TTL_SECONDS)
    throw invalid('lifetime too long', claims);
  if (claims.iat > nowSeconds + CLOCK_SKEW_SECONDS) throw invalid('issued in the future', claims);
  if (claims.exp + CLOCK_SKEW_SECONDS <= nowSeconds) throw invalid('expired', claims);
  return claims.sub === ANY_TENANT ? { service: claims.iss } : { service: claims.iss, tenantId: claims.sub };
}
