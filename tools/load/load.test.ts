import { describe, expect, it } from 'vitest';
import { schoolSizes } from './load';

describe('schoolSizes', () => {
  it('splits 200 schools 170 small / 25 medium / 5 large with the default mix', () => {
    const sizes = schoolSizes(200, [0.85, 0.125, 0.025]);
    expect(sizes).toHaveLength(200);
    expect(sizes.filter((s) => s === 'small')).toHaveLength(170);
    expect(sizes.filter((s) => s === 'medium')).toHaveLength(25);
    expect(sizes.filter((s) => s === 'large')).toHaveLength(5);
  });

  it('spreads the large schools through the list rather than bunching them', () => {
    const sizes = schoolSizes(200, [0.85, 0.125, 0.025]);
    const large = sizes.flatMap((s, i) => (s === 'large' ? [i] : []));
    expect(large).toEqual([20, 60, 100, 140, 180]);
  });

  it('is deterministic and gives the quick size 16 / 3 / 1', () => {
    const a = schoolSizes(20, [0.85, 0.125, 0.025]);
    expect(a).toEqual(schoolSizes(20, [0.85, 0.125, 0.025]));
    expect(a.filter((s) => s === 'small')).toHaveLength(16);
    expect(a.filter((s) => s === 'medium')).toHaveLength(3);
    expect(a.filter((s) => s === 'large')).toHaveLength(1);
  });
});
