import { describe, expect, it } from 'vitest';
import { checkSmallRecord } from '../../../src/history/validate';

/** A small record that passes, with processing kept. */
function record(processed: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'e1',
    name: 'mug',
    createdAt: 1,
    kind: 'photo',
    params: { resolution: 64, threshold: 25, meshing: 'coarse-to-fine' },
    model: { id: 'm', revision: 'r' },
    stats: {},
    processed: { settings: {}, report: {}, ...processed },
  };
}

describe('checkSmallRecord: the processed result’s frame', () => {
  it('accepts processing with or without its map back to the generated mesh', () => {
    expect(checkSmallRecord(record({}))).toBeNull();
    expect(checkSmallRecord(record({ toSource: { scale: 0.001, offset: [0, 0.5, -1] } }))).toBeNull();
  });

  it.each([
    ['no offset', { scale: 1 }],
    ['two numbers', { scale: 1, offset: [0, 0] }],
    ['a string', { scale: 1, offset: [0, '1', 2] }],
    ['an infinite scale', { scale: Infinity, offset: [0, 0, 0] }],
    ['not an object', 'scale'],
  ])('refuses an imported frame with %s', (_, toSource) => {
    expect(checkSmallRecord(record({ toSource }))).toBe('bad processing frame');
  });
});
