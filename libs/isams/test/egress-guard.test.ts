/**
 * The egress guard (issue #15): which addresses are public, which URLs are refused before any
 * lookup, and — over real sockets — that a request connects only to the address that was vetted,
 * on every redirect hop, and that a refused target never sees a connection.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchBatch } from '../src/client/fetch-batch';
import type { FetchBatchOptions } from '../src/client/fetch-batch';
import {
  ADDRESS_NOT_ALLOWED_MESSAGE,
  createEgressGuard,
  matchesHostSuffix,
  refusedAddressRange,
  staticRefusal,
} from '../src/client/egress-guard';
import type { EgressPolicy, ResolvedAddress } from '../src/client/egress-guard';
import { IsamsError } from '../src/errors/isams-error';
import { fixture, testFetchOptions } from './helpers';
import { startForwardProxy } from './local-servers';

const TLS_DIR = join(__dirname, 'fixtures', 'tls');
const CERT = readFileSync(join(TLS_DIR, 'test-host.crt'));
const sample = fixture('reference-sample.xml');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('refusedAddressRange: only public addresses pass', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['192.0.0.8', 'IETF'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001::1', 'Teredo'],
    ['2001:2::1', 'benchmarking'],
    ['100::1', 'discard'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['::ffff:127.0.0.1', 'IPv4-mapped of loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped of loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'IPv4-mapped of link-local'],
    ['::ffff:10.1.2.3', 'IPv4-mapped of private'],
    ['::127.0.0.1', 'IPv4-compatible of loopback'],
    ['::a00:1', 'IPv4-compatible of private'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::169.254.169.254', 'NAT64 of link-local'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['2002:a9fe:a9fe::1', '6to4 of link-local'],
    ['2002:c0a8:101::1', '6to4 of private'],
    ['4000::1', 'not global unicast'],
    ['school.isams.cloud', 'not an IP address'],
    ['', 'not an IP address'],
  ])('%s is refused (%s)', (address, reason) => {
    expect(refusedAddressRange(address)).toContain(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '169.253.255.255',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2a00:1450:4009:81f::200e',
    '2606:4700::6810:84e5',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('%s is public', (address) => {
    expect(refusedAddressRange(address)).toBeUndefined();
  });
});

const PRODUCTION: EgressPolicy = { allowPrivateAddresses: false, hostSuffixes: [], allowedPorts: [443] };

describe('staticRefusal: what is refused before any lookup', () => {
  it.each([
    'https://0x7f000001/',
    'https://2130706433/',
    'https://0177.0.0.1/',
    'https://127.1/',
    'https://017700000001/',
    'https://0x7f.1/',
    'https://%31%32%37.0.0.1/',
    'https://127\u30020\u30020\u30021/',
    'https://[::ffff:127.0.0.1]/',
    'https://[0:0:0:0:0:ffff:7f00:1]/',
    'https://[::1]/',
    'https://169.254.169.254/',
    'https://[64:ff9b::a9fe:a9fe]/',
    'https://[2002:a9fe:a9fe::]/',
    'https://8.8.8.8/',
    'https://localhost/',
    'https://LOCALHOST./',
    'https://api.localhost/',
    'https://kubernetes.default.svc/',
    'https://kubernetes.default.svc.cluster.local/',
    'https://kubernetes.default.svc.cluster.local./',
    'https://metadata.google.internal/',
    'https://nas.local/',
    'https://router.home.arpa/',
    'https://isams.school.corp/',
    'https://files.home/',
    'https://isams/',
    'http://school.isams.cloud/',
    'https://school.isams.cloud:8443/',
  ])('%s is refused in production', (url) => {
    expect(staticRefusal(new URL(url), PRODUCTION)).toBeDefined();
  });

  it.each([
    'https://school.isams.cloud/',
    'https://isams.school.example.co.uk:443/',
    'https://school.isams.cloud./',
  ])('%s passes (its DNS answer is checked when connecting)', (url) => {
    expect(staticRefusal(new URL(url), PRODUCTION)).toBeUndefined();
  });

  it('matches host suffixes on label boundaries only', () => {
    const suffixes = ['.isams.cloud', 'isams.co.uk'];
    expect(matchesHostSuffix('school.isams.cloud', suffixes)).toBe(true);
    expect(matchesHostSuffix('a.b.isams.cloud.', suffixes)).toBe(true);
    expect(matchesHostSuffix('school.isams.co.uk', suffixes)).toBe(true);
    expect(matchesHostSuffix('evil-isams.cloud', suffixes)).toBe(false);
    expect(matchesHostSuffix('isams.cloud', suffixes)).toBe(false);
    expect(matchesHostSuffix('school.isams.cloud.evil.com', suffixes)).toBe(false);
    expect(matchesHostSuffix('evilisams.co.uk', suffixes)).toBe(false);
    const policy = { ...PRODUCTION, hostSuffixes: ['.isams.cloud'] };
    expect(staticRefusal(new URL('https://school.isams.cloud'), policy)).toBeUndefined();
    expect(staticRefusal(new URL('https://evil-isams.cloud'), policy)).toContain('not under');
  });

  it('development (allowPrivateAddresses) lets the local simulator through, but still applies the suffix list', () => {
    const dev = { ...PRODUCTION, allowPrivateAddresses: true };
    expect(staticRefusal(new URL('http://127.0.0.1:8480'), dev)).toBeUndefined();
    expect(staticRefusal(new URL('http://isams-simulator:8480'), dev)).toBeUndefined();
    expect(
      staticRefusal(new URL('http://127.0.0.1:8480'), { ...dev, hostSuffixes: ['.isams.cloud'] }),
    ).toBeDefined();
  });

  it('the guard throws the one generic ISAMS_ADDRESS_NOT_ALLOWED whatever the reason, naming no address', () => {
    const guard = createEgressGuard(PRODUCTION);
    const errors = ['https://10.0.0.1', 'https://localhost', 'https://school.isams.cloud:8443'].map((u) => {
      try {
        guard.check(new URL(u));
      } catch (e) {
        return e as IsamsError;
      }
      throw new Error(`${u} was not refused`);
    });
    for (const e of errors) {
      expect(e).toBeInstanceOf(IsamsError);
      expect(e).toMatchObject({
        code: 'ISAMS_ADDRESS_NOT_ALLOWED',
        message: ADDRESS_NOT_ALLOWED_MESSAGE,
        transient: false,
      });
      expect(JSON.stringify({ ...e, message: e.message })).not.toMatch(/10\.0\.0\.1|localhost|8443/);
    }
  });
});

/** An https iSAMS host on loopback with the test certificate for `*.isams.test`. */
async function tlsHost(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createHttpsServer(
    { key: readFileSync(join(TLS_DIR, 'test-host.key')), cert: CERT },
    (req, res) => {
      seen.push({ host: req.headers.host ?? '', sni: (req.socket as TLSSocket).servername || '' });
      handler(req, res);
    },
  );
  const seen: { host: string; sni: string }[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    connections += 1;
    sockets.add(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port, seen, connections: () => connections };
}

/** A resolver answering from a table (one answer list per call, the last repeating). */
function resolver(table: Record<string, ResolvedAddress[][]>) {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const n = calls.filter((c) => c === hostname).length;
    return answers[Math.min(n, answers.length) - 1]!;
  };
  return { resolve, calls };
}

const v4 = (address: string): ResolvedAddress[] => [{ address, family: 4 }];
/** Lets the test listener on 127.0.0.1 stand in for a public iSAMS server; everything else as in production. */
const loopbackAsPublic = (a: string) => (a === '127.0.0.1' ? undefined : refusedAddressRange(a));

function options(
  baseUrl: string,
  egress: EgressPolicy,
  extra: Partial<FetchBatchOptions> = {},
): FetchBatchOptions {
  return testFetchOptions(baseUrl, { tls: { ca: CERT }, egress, ...extra });
}

async function failure(opts: FetchBatchOptions): Promise<IsamsError> {
  try {
    const res = await fetchBatch(opts);
    for await (const _ of res.body) void _;
  } catch (e) {
    return e as IsamsError;
  }
  throw new Error('expected the request to fail');
}

describe('fetchBatch with the egress guard, over real sockets', () => {
  const ok = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(sample);
  };

  it('connects to the vetted address of a public name, with TLS SNI and Host the host name', async () => {
    const host = await tlsHost(ok);
    const dns = resolver({ 'school.isams.test.': [v4('127.0.0.1')] });
    const policy = {
      ...PRODUCTION,
      hostSuffixes: ['.isams.test'],
      allowedPorts: [host.port],
      resolve: dns.resolve,
      classify: loopbackAsPublic,
    };
    const res = await fetchBatch(options(`https://school.isams.test:${host.port}`, policy));
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.byteLength;
    expect(bytes).toBe(sample.length);
    expect(host.seen).toEqual([{ host: `school.isams.test:${host.port}`, sni: 'school.isams.test' }]);
    // Looked up as an absolute name (no search domain), through the guard only.
    expect(dns.calls).toEqual(['school.isams.test.']);
  });

  it('a name with any private answer is refused before connecting (IPv4 and IPv6 answers)', async () => {
    const host = await tlsHost(ok);
    for (const answers of [
      v4('127.0.0.1'),
      v4('169.254.169.254'),
      [...v4('93.184.215.14'), ...v4('10.0.0.7')],
      [{ address: '::ffff:127.0.0.1', family: 6 as const }],
      [{ address: '::1', family: 6 as const }],
      [{ address: 'fd00::5', family: 6 as const }],
    ]) {
      const dns = resolver({ 'school.isams.test.': [answers] });
      const policy = { ...PRODUCTION, allowedPorts: [host.port], resolve: dns.resolve };
      const err = await failure(options(`https://school.isams.test:${host.port}`, policy));
      expect(err, JSON.stringify(answers)).toMatchObject({
        code: 'ISAMS_ADDRESS_NOT_ALLOWED',
        message: ADDRESS_NOT_ALLOWED_MESSAGE,
      });
      // Not retried: one lookup, no connection.
      expect(dns.calls).toHaveLength(1);
    }
    expect(host.connections()).toBe(0);
  });

  it('an IP literal in any numeric spelling is refused without a lookup or a connection', async () => {
    let connections = 0;
    const server = createTcpServer((s) => {
      connections += 1;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const dns = resolver({});
    const policy = { ...PRODUCTION, allowedPorts: [port], resolve: dns.resolve };
    for (const host of [
      '127.0.0.1',
      '0x7f000001',
      '2130706433',
      '0177.0.0.1',
      '127.1',
      '[::ffff:127.0.0.1]',
      'localhost',
    ]) {
      const err = await failure(options(`https://${host}:${port}`, policy));
      expect(err.code, host).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
    }
    expect(dns.calls).toEqual([]);
    expect(connections).toBe(0);
  });

  it('a redirect hop whose name now resolves privately is refused (the key is not sent again)', async () => {
    const host = await tlsHost((req, res) => {
      if (host.seen.length === 1) {
        res.writeHead(302, { location: req.url ?? '/', connection: 'close' });
        res.end();
        return;
      }
      ok(req, res);
    });
    const dns = resolver({ 'school.isams.test.': [v4('127.0.0.1'), v4('10.0.0.9')] });
    const policy = {
      ...PRODUCTION,
      allowedPorts: [host.port],
      resolve: dns.resolve,
      classify: loopbackAsPublic,
    };
    const err = await failure(options(`https://school.isams.test:${host.port}`, policy));
    expect(err.code).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
    expect(dns.calls).toEqual(['school.isams.test.', 'school.isams.test.']);
    expect(host.seen).toHaveLength(1);
    expect(host.connections()).toBe(1);
  });

  it('through an egress proxy the target is resolved and vetted before the CONNECT, which is never sent', async () => {
    const proxy = await startForwardProxy();
    cleanups.push(proxy.close);
    const dns = resolver({ 'school.isams.test.': [v4('10.20.30.40')] });
    const policy = { ...PRODUCTION, resolve: dns.resolve };
    const err = await failure(options('https://school.isams.test', policy, { proxyUrl: proxy.url }));
    expect(err.code).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
    const literal = await failure(options('https://169.254.169.254', policy, { proxyUrl: proxy.url }));
    expect(literal.code).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
    expect(proxy.seen).toEqual([]);
  });

  it('without a policy (the CLI, this library alone) nothing is checked', async () => {
    const host = await tlsHost(ok);
    const opts = options(`https://127.0.0.1:${host.port}`, PRODUCTION);
    delete opts.egress;
    const err = await failure(opts);
    // The certificate names *.isams.test, not 127.0.0.1: the request got as far as TLS.
    expect(err.code).toBe('ISAMS_TLS');
    expect(host.connections()).toBe(1);
  });
});
