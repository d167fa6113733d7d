import { describe, expect, it } from 'vitest';
import { redactMongoUrl } from '../src/redact-mongo-url';

describe('redactMongoUrl', () => {
  it.each([
    ['mongodb://user:s3cret@db:27017/roster?authSource=admin', 'mongodb://db:27017/roster?authSource=admin'],
    [
      'mongodb+srv://u%40x:p%3Aw@cluster0.example.net/?retryWrites=true',
      'mongodb+srv://cluster0.example.net/?retryWrites=true',
    ],
    ['mongodb://user:pw@a:1,b:2,c:3/?replicaSet=rs0', 'mongodb://a:1,b:2,c:3/?replicaSet=rs0'],
    ['mongodb://onlyuser@h/', 'mongodb://h/'],
    ['mongodb://127.0.0.1:27117/?directConnection=true', 'mongodb://127.0.0.1:27117/?directConnection=true'],
    [
      'mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:abc&x=1',
      'mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=***&x=1',
    ],
    [
      'mongodb://h/?tls=true&tlsCertificateKeyFilePassword=pw',
      'mongodb://h/?tls=true&tlsCertificateKeyFilePassword=***',
    ],
  ])('%s → %s', (input, expected) => {
    expect(redactMongoUrl(input)).toBe(expected);
  });

  it('keeps a password containing @ and / out of the result', () => {
    const redacted = redactMongoUrl('mongodb://user:p@ss@host:27017/db');
    expect(redacted).not.toContain('p@ss');
    expect(redacted).not.toContain('user');
  });
});
