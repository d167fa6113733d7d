import { describe, expect, it } from 'vitest';
import { DemoUsageError, parseDemoArgs } from './demo-args';

const refusal = (args: string[]): string => {
  try {
    parseDemoArgs(args);
  } catch (err) {
    expect(err).toBeInstanceOf(DemoUsageError);
    return (err as Error).message;
  }
  throw new Error(`${args.join(' ')} was accepted`);
};

describe('npm run demo arguments', () => {
  it('--once alone keeps the default size (it used to become the size)', () => {
    expect(parseDemoArgs(['--once'])).toMatchObject({ size: 'medium', once: true });
  });
  it('no arguments: a medium school, left running', () => {
    expect(parseDemoArgs([])).toEqual({ size: 'medium', once: false, help: false });
  });
  it('--size in either form and position', () => {
    expect(parseDemoArgs(['--size', 'small', '--once'])).toMatchObject({ size: 'small', once: true });
    expect(parseDemoArgs(['--once', '--size=large'])).toMatchObject({ size: 'large', once: true });
  });
  it('--help and -h', () => {
    expect(parseDemoArgs(['--help']).help).toBe(true);
    expect(parseDemoArgs(['-h']).help).toBe(true);
  });
  it('refuses what it does not understand, saying what', () => {
    expect(refusal(['--sise', 'small'])).toContain("'--sise'");
    expect(refusal(['--size', 'huge'])).toBe('--size must be one of small, medium, large (got "huge")');
    expect(refusal(['--size'])).toContain('--size');
    expect(refusal(['small'])).toContain("'small'");
    expect(refusal(['--once=yes'])).toContain('--once');
  });
});
