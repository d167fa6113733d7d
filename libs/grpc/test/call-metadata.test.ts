import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ACTOR_KEY, callMetadata, readActor } from '../src/call-metadata';

const roundTrip = (actor: string) => readActor(callMetadata({ tenantId: 'school-1', actor }));
const sent = (actor: string) => callMetadata({ actor }).get(ACTOR_KEY)[0] as string;
const received = (value: string) => {
  const metadata = new Metadata();
  metadata.set(ACTOR_KEY, value);
  return readActor(metadata);
};

describe('x-actor metadata', () => {
  it.each([
    ['ASCII', 'admin:42'],
    ['an ASCII e-mail subject', 'jwt:alice.admin@school-a.example'],
    ['an accented e-mail subject', 'jwt:josé@school-a.example'],
    ['a name with a diaeresis and a space', 'Zoë Smith'],
    ['an emoji', 'jwt:🦊 fox@school-a.example'],
    ['a literal %41', 'token:%41'],
    ['escape-like text', '100% sure %zz %C3'],
  ])('carries %s unchanged from callMetadata to readActor', (_case, actor) => {
    expect(roundTrip(actor)).toBe(actor);
  });

  it('sends printable ASCII only, and ASCII actors as they are', () => {
    expect(sent('admin:42')).toBe('admin:42');
    expect(sent('jwt:josé@school-a.example')).toBe('jwt:jos%C3%A9@school-a.example');
    for (const actor of ['Zoë Smith', '🦊', 'a\tb\nc', '\u0000', '%'])
      expect(sent(actor)).toMatch(/^[!-~]+$/);
  });

  it('does not throw on a lone surrogate, and reads it as U+FFFD', () => {
    expect(roundTrip('jwt:\uD83Dx')).toBe('jwt:\uFFFDx');
    expect(roundTrip('\uDC00')).toBe('\uFFFD');
  });

  it('caps the actor at 256 characters, without splitting a character or growing the header unboundedly', () => {
    const ascii = 'a'.repeat(1000);
    expect(roundTrip(ascii)).toBe(ascii.slice(0, 256));
    expect(sent(ascii)).toHaveLength(256);

    const accented = 'é'.repeat(1000);
    expect(roundTrip(accented)).toBe('é'.repeat(256));
    const emoji = '🦊'.repeat(1000);
    expect(roundTrip(emoji)).toBe('🦊'.repeat(128));
    expect(roundTrip(`a${emoji}`)).toBe(`a${'🦊'.repeat(127)}`);
    for (const actor of [accented, emoji, '\u0000'.repeat(1000), '\uD800'.repeat(1000)])
      expect(sent(actor).length).toBeLessThanOrEqual(256 * 9);
  });

  it('reads a value without valid escapes as it is (an older caller), capped', () => {
    expect(received('admin:42')).toBe('admin:42');
    expect(received('100%')).toBe('100%');
    expect(received('50%zz')).toBe('50%zz');
    expect(received('%C3')).toBe('%C3');
    expect(received('%FF%FE')).toBe('%FF%FE');
    expect(received('x'.repeat(300))).toBe('x'.repeat(256));
    expect(received('')).toBeUndefined();
    expect(readActor(new Metadata())).toBeUndefined();
  });

  it('caps a decoded actor from any caller at 256 characters', () => {
    expect(received('%C3%A9'.repeat(300))).toBe('é'.repeat(256));
  });
});
