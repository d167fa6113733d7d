import { describe, expect, it } from 'vitest';
import { EXTERNAL_SECRETS, resolveEnvironments, valueProblems } from './check-env-values';
import type { EnvVar, Manifest } from './check-env-values';

/** A gateway Deployment as the chart renders it: `env` literal values and Secret references. */
function gateway(env: EnvVar[]): Manifest {
  return {
    kind: 'Deployment',
    metadata: { name: 'isams-sync-gateway', labels: { 'app.kubernetes.io/name': 'gateway' } },
    spec: { template: { spec: { containers: [{ name: 'gateway', env }] } } },
  };
}
const secretRef = (name: string, secret: string, key: string, optional?: boolean): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key, ...(optional === undefined ? {} : { optional }) } },
});
const value = (name: string, v: string): EnvVar => ({ name, value: v });
const BASE = [
  value('NODE_ENV', 'production'),
  value('GRPC_IDENTITY_DIR', '/var/run/isams-sync/identity'),
  value('CONNECTOR_GRPC_ADDRESS', 'isams-sync-connector:50051'),
  value('ROSTER_GRPC_ADDRESS', 'isams-sync-roster:50051'),
  value('BOOKINGS_GRPC_ADDRESS', 'isams-sync-bookings:50051'),
  value('MONGO_DB', 'gateway'),
  secretRef('MONGO_URL', 'isams-sync-mongo', 'url'),
  secretRef('GATEWAY_TOKEN_PEPPER', 'isams-sync-gateway', 'token-pepper'),
];
const secret = (name: string, data: Record<string, string>): Manifest => ({
  kind: 'Secret',
  metadata: { name },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

describe('check-env-values', () => {
  it('passes a workload whose environment its service accepts, operator Secrets standing in', async () => {
    expect(await valueProblems([gateway(BASE)])).toEqual([]);
    const [resolved] = resolveEnvironments([gateway(BASE)]);
    expect(resolved!.external).toEqual(['MONGO_URL', 'GATEWAY_TOKEN_PEPPER']);
    expect(resolved!.env.MONGO_URL).toBe(EXTERNAL_SECRETS.MONGO_URL);
  });

  it('reads a Secret the chart renders itself, and fails a value the service refuses (the dev operator token)', async () => {
    const env = [...BASE, secretRef('GATEWAY_OPERATOR_TOKEN', 'isams-sync-gateway', 'operator-token')];
    const rendered = secret('isams-sync-gateway', {
      'token-pepper': 'p'.repeat(40),
      'operator-token': 'dev-operator-token',
    });
    const problems = await valueProblems([rendered, gateway(env)]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^gateway\/gateway: would not start: .*GATEWAY_OPERATOR_TOKEN/s);
    const long = secret('isams-sync-gateway', {
      'token-pepper': 'p'.repeat(40),
      'operator-token': 'o'.repeat(40),
    });
    expect(await valueProblems([long, gateway(env)])).toEqual([]);
  });

  it("fails a workload that breaks one of its service's cross-field rules (JWT keys without issuer)", async () => {
    const problems = await valueProblems([
      gateway([...BASE, value('GATEWAY_JWT_PUBLIC_KEYS', '{"keys":[]}')]),
    ]);
    expect(problems.join('\n')).toMatch(/GATEWAY_JWT_ISSUER/);
  });

  it('names a required key missing from a rendered Secret, and a Secret it has no stand-in for', async () => {
    const env = [...BASE, secretRef('GATEWAY_OPERATOR_TOKEN', 'isams-sync-gateway', 'operator-token')];
    const rendered = secret('isams-sync-gateway', { 'token-pepper': 'p'.repeat(40) });
    expect(await valueProblems([rendered, gateway(env)])).toEqual([
      'gateway/gateway: GATEWAY_OPERATOR_TOKEN: isams-sync-gateway has no key operator-token (rendered by the chart)',
    ]);
    const unknown = [...BASE, secretRef('SOMETHING_NEW', 'isams-sync-other', 'value')];
    expect(await valueProblems([gateway(unknown)])).toContain(
      'gateway/gateway: SOMETHING_NEW: from isams-sync-other/value, which the check has no stand-in for',
    );
    // An optional key the operator may leave out is simply unset.
    const optional = [...BASE, secretRef('GATEWAY_OPERATOR_TOKEN', 'isams-sync-ops', 'token', true)];
    expect(await valueProblems([gateway(optional)])).toEqual([]);
  });
});
