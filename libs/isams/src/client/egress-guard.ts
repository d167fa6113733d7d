import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import type { LoggerLike } from '@isams-sync/logger';
import { IsamsError } from '../errors/isams-error';

/** One answer of a host-name lookup. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Where the client may connect. Production: only public addresses (checked after DNS resolution,
 * on every request and redirect hop), https, the allowed ports, and — when set — host names under
 * one of `hostSuffixes`.
 */
export interface EgressPolicy {
  /**
   * Development only (the local simulator): private, loopback and cluster-internal addresses, any
   * port and scheme are allowed; only `hostSuffixes` still applies.
   */
  allowPrivateAddresses: boolean;
  /** Host-name suffixes such as `.isams.cloud`, matched on a label boundary; empty = any public host. */
  hostSuffixes: readonly string[];
  /** Ports an `https://` address may name (default port 443 included explicitly). */
  allowedPorts: readonly number[];
  /** Resolves a host name to all its addresses (default: the system resolver). Tests inject one. */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
  /**
   * Names the refused range of an address, or `undefined` for a public one (default
   * {@link refusedAddressRange}). Tests inject one to let a local listener count as public.
   */
  classify?: (address: string) => string | undefined;
}

/** The one message for every refused target, whatever the reason (no port or host-state oracle). */
export const ADDRESS_NOT_ALLOWED_MESSAGE =
  'This address is not allowed: the connector only connects to public iSAMS addresses.';

/** The generic refusal; the reason goes to the operator's log only, never to the caller. */
export function addressNotAllowed(): IsamsError {
  return new IsamsError({
    code: 'ISAMS_ADDRESS_NOT_ALLOWED',
    message: ADDRESS_NOT_ALLOWED_MESSAGE,
    details: {},
  });
}

function list(family: 'ipv4' | 'ipv6', ranges: ReadonlyArray<readonly [string, number, string]>) {
  const names = ranges.map(([net, prefix, name]) => {
    const one = new BlockList();
    one.addSubnet(net, prefix, family);
    return { one, name: `${name} (${net}/${prefix})` };
  });
  return (address: string) => names.find((n) => n.one.check(address, family))?.name;
}

// IANA special-purpose registries (RFC 6890 and updates): nothing here is a public iSAMS server.
const refusedIpv4 = list('ipv4', [
  ['0.0.0.0', 8, 'unspecified / "this network"'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved / broadcast'],
]);

// Checked after the forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4).
const refusedIpv6 = list('ipv6', [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 32, 'Teredo'],
  ['2001:2::', 48, 'benchmarking'],
  ['2001:10::', 28, 'ORCHID'],
  ['2001:20::', 28, 'ORCHIDv2'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
]);

/** The 8 groups of an IPv6 address (`isIP` already said it is one; zone ids are dropped). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  return tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

const v4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/**
 * Names the refused range `address` falls in (`"private (10.0.0.0/8)"`, `"loopback (::1/128)"`, …)
 * or returns `undefined` for a public address. IPv6 forms that carry an IPv4 address — mapped
 * (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) — are
 * judged by that IPv4 address; only global unicast (`2000::/3`) is public IPv6. Anything that is not
 * an IP address is refused.
 */
export function refusedAddressRange(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return refusedIpv4(address);
  if (family !== 6) return 'not an IP address';
  const g = ipv6Groups(address);
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embedded = (v4: string, form: string) => {
    const range = refusedIpv4(v4);
    return range === undefined ? undefined : `${form} of ${range}`;
  };
  if (zeros(5) && g[5] === 0xffff) return embedded(v4Of(g[6]!, g[7]!), 'IPv4-mapped');
  if (zeros(6) && (g[6] !== 0 || g[7]! > 1)) return embedded(v4Of(g[6]!, g[7]!), 'IPv4-compatible');
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
    return embedded(v4Of(g[6]!, g[7]!), 'NAT64');
  if (g[0] === 0x2002) return embedded(v4Of(g[1]!, g[2]!), '6to4');
  const range = refusedIpv6(address.replace(/%.*$/, ''));
  if (range !== undefined) return range;
  if (g[0]! >> 13 !== 1) return 'not global unicast (outside 2000::/3)';
  return undefined;
}

// Names that only ever mean something inside a network or cluster (RFC 6761/6762, RFC 8375, the
// never-delegated .corp/.home, Kubernetes' cluster domain, cloud providers' internal zones).
const INTERNAL_NAME =
  /(^|\.)(localhost|local|localdomain|internal|intranet|lan|corp|home|home\.arpa|svc|cluster\.local)$/;

/** Lower-case host name without brackets or a trailing dot. */
function bareHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/** Whether `host` ends with one of `suffixes` on a label boundary (`.isams.cloud` ≠ `evil-isams.cloud`). */
export function matchesHostSuffix(host: string, suffixes: readonly string[]): boolean {
  const h = bareHost(host);
  return suffixes.some((s) => {
    const suffix = s.toLowerCase().replace(/^\.*/, '.').replace(/\.$/, '');
    return h.endsWith(suffix) && h.length > suffix.length;
  });
}

/**
 * Why `url` may not be requested before any lookup — scheme, port, host-suffix list, any IP
 * literal, an internal name — or `undefined`. Numeric host forms (`0x7f000001`,
 * `2130706433`, `0177.0.0.1`, `127.1`) arrive normalised by the WHATWG URL parser.
 */
export function staticRefusal(url: URL, policy: EgressPolicy): string | undefined {
  const host = bareHost(url.hostname);
  if (policy.hostSuffixes.length > 0 && !matchesHostSuffix(host, policy.hostSuffixes))
    return `host is not under ${policy.hostSuffixes.join(', ')}`;
  if (policy.allowPrivateAddresses) return undefined;
  if (url.protocol !== 'https:') return `scheme ${url.protocol} (https only)`;
  const port = Number(url.port || 443);
  if (!policy.allowedPorts.includes(port)) return `port ${port} is not allowed`;
  // A school's iSAMS is reached by its host name (its certificate names it): an IP literal is
  // refused even when public.
  if (isIP(host) !== 0) return (policy.classify ?? refusedAddressRange)(host) ?? 'IP address literal';
  if (!host.includes('.')) return 'single-label host name';
  if (INTERNAL_NAME.test(host)) return 'internal host name';
  return undefined;
}

const systemResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, order: 'verbatim' })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** The egress checks of one request, bound to a policy and a logger. */
export interface EgressGuard {
  /** Throws `ISAMS_ADDRESS_NOT_ALLOWED` when `url` may not be requested (no lookup, no connection). */
  check(url: URL): void;
  /**
   * Resolves `hostname` and throws when any answer is not public; returns the vetted answers
   * (nothing is resolved, and nothing returned, when private addresses are allowed).
   */
  vet(hostname: string): Promise<ResolvedAddress[]>;
  /** A `net.connect` lookup that connects only to vetted answers (undefined: no lookup hook needed). */
  readonly lookup: LookupFunction | undefined;
}

/** Builds the guard `fetchBatch` applies to every request of one fetch. */
export function createEgressGuard(policy: EgressPolicy, logger?: LoggerLike): EgressGuard {
  const classify = policy.classify ?? refusedAddressRange;
  const resolve = policy.resolve ?? systemResolve;
  const refuse = (host: string, reason: string, address?: string): IsamsError => {
    logger?.warn(
      { host, reason, ...(address ? { address } : {}) },
      'refused an iSAMS address that is not public (ISAMS_ADDRESS_NOT_ALLOWED)',
    );
    return addressNotAllowed();
  };
  const vet = async (hostname: string): Promise<ResolvedAddress[]> => {
    const host = bareHost(hostname);
    if (policy.allowPrivateAddresses) return [];
    if (isIP(host) !== 0) {
      const reason = classify(host);
      if (reason !== undefined) throw refuse(host, reason, host);
      return [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
    }
    // A trailing dot makes the name absolute: no resolver search domain (a cluster's
    // `<ns>.svc.cluster.local`) is ever appended to an iSAMS host name.
    const answers = await resolve(`${host}.`);
    for (const a of answers) {
      const reason = classify(a.address);
      if (reason !== undefined) throw refuse(host, reason, a.address);
    }
    if (answers.length === 0) throw refuse(host, 'no addresses');
    return answers;
  };
  const lookup: LookupFunction = (hostname, options, callback) => {
    vet(hostname).then(
      (answers) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = wanted ? answers.filter((a) => a.family === wanted) : answers;
        if (options.all) {
          callback(null, usable);
        } else if (usable[0]) {
          callback(null, usable[0].address, usable[0].family);
        } else {
          const err = Object.assign(new Error(`no IPv${wanted} address for ${hostname}`), {
            code: 'ENOTFOUND',
          });
          callback(err, '', 0);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
  return {
    check(url) {
      const reason = staticRefusal(url, policy);
      if (reason !== undefined) throw refuse(bareHost(url.hostname), reason);
    },
    vet,
    lookup: policy.allowPrivateAddresses ? undefined : lookup,
  };
}
