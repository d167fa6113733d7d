import { describe, expect, it } from 'vitest';
import { newKafkaClusterId } from './kafka-cluster-id';

describe('newKafkaClusterId', () => {
  it('is 16 bytes in URL-safe base64 without padding', () => {
    const id = newKafkaClusterId(() => '3f2504e0-4f89-11d3-9a0c-0305e82c3301');
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, 'base64url').toString('hex')).toBe('3f2504e04f8911d39a0c0305e82c3301');
  });

  it('never starts with "-": kafka-storage would read it as an option ("--cluster-id: expected one argument")', () => {
    // 0xf8… encodes to "-…" in base64url (one id in 64 did, at random).
    const uuids = ['f8000000-0000-4000-8000-000000000000', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'];
    const id = newKafkaClusterId(() => uuids.shift()!);
    expect(id.startsWith('-')).toBe(false);
    expect(Buffer.from(id, 'base64url').toString('hex')).toBe('3f2504e04f8911d39a0c0305e82c3301');
  });
});
