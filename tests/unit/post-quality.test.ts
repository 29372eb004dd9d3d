import { describe, expect, it } from 'vitest';
import { aspectQuality, qualityReport, qualityScore, type ScoreInputs } from '../../src/post/quality';
import { icosphere, meshOf, withoutTriangles } from '../helpers/post-meshes';

const clean: ScoreInputs = { triangles: 10_000, edges: 15_000, boundaryEdges: 0, nonManifoldEdges: 0, components: 1, sliverShare: 0 };

describe('aspect quality', () => {
  it('is 1 for an equilateral triangle and 0 for a degenerate one', () => {
    expect(aspectQuality(1, 1, 1, Math.sqrt(3) / 4)).toBeCloseTo(1, 12);
    expect(aspectQuality(1, 1, 4, 0)).toBe(0);
    expect(aspectQuality(0, 0, 0, 0)).toBe(0);
  });
});

describe('score formula', () => {
  it('gives a clean closed mesh 10 and follows each documented penalty', () => {
    expect(qualityScore(clean)).toBe(10);
    expect(qualityScore({ ...clean, components: 3 })).toBe(9);
    expect(qualityScore({ ...clean, components: 10 })).toBe(8);
    expect(qualityScore({ ...clean, sliverShare: 0.05 })).toBe(9.5);
    expect(qualityScore({ ...clean, sliverShare: 0.5 })).toBe(8);
    expect(qualityScore({ ...clean, triangles: 600_000, edges: 900_000 })).toBe(9);
    expect(qualityScore({ ...clean, triangles: 0 })).toBe(0);
  });

  it('scores an open or non-manifold mesh below 7, however small the defect', () => {
    expect(qualityScore({ ...clean, boundaryEdges: 1 })).toBe(6.5);
    expect(qualityScore({ ...clean, boundaryEdges: 3000 })).toBe(5);
    expect(qualityScore({ ...clean, nonManifoldEdges: 1 })).toBe(6.5);
    expect(qualityScore({ ...clean, boundaryEdges: 3000, nonManifoldEdges: 3000 })).toBe(0);
  });
});

describe('quality report', () => {
  it('rates a clean closed sphere at least 9 with exact counts', () => {
    const sphere = icosphere(3, 0.5);
    const report = qualityReport(sphere, 'm');
    expect(report).toMatchObject({ vertices: 642, triangles: 1280, components: 1, boundaryEdges: 0, nonManifoldEdges: 0, watertight: true });
    expect(report.score).toBeGreaterThanOrEqual(9);
    expect(report.volume).toBeGreaterThan(0.98 * (4 / 3) * Math.PI * 0.125);
    expect(report.volume).toBeLessThan((4 / 3) * Math.PI * 0.125);
    expect(report.surfaceArea).toBeLessThan(4 * Math.PI * 0.25);
    report.size.forEach((x) => expect(x).toBeCloseTo(1, 5));
    expect(report.issues).toEqual([]);
    expect(report.verdict).toMatch(/^Ready to print/);
  });

  it('rates the same sphere with a hole below 7, says why and offers Make printable', () => {
    const report = qualityReport(withoutTriangles(icosphere(3, 0.5), [7]), 'mm');
    expect(report.boundaryEdges).toBe(3);
    expect(report.watertight).toBe(false);
    expect(report.score).toBeLessThan(7);
    expect(report.issues[0]).toMatchObject({ code: 'open', fix: 'printable' });
    expect(report.verdict).toMatch(/^Not ready to print: it has holes/);
    expect(report.unit).toBe('mm');
  });

  it('reports an empty mesh and a single triangle without failing', () => {
    const empty = qualityReport(meshOf([], []), 'm');
    expect(empty).toMatchObject({ triangles: 0, vertices: 0, score: 0, watertight: false });
    expect(empty.issues[0]?.code).toBe('empty');
    const one = qualityReport(meshOf([0, 0, 0, 1, 0, 0, 0, 1, 0], [0, 1, 2]), 'm');
    expect(one).toMatchObject({ triangles: 1, boundaryEdges: 3, components: 1, watertight: false });
    expect(one.score).toBeLessThan(7);
    expect(one.aspect.min).toBeCloseTo(Math.sqrt(3) / 2, 6);
  });

  it('counts slivers', () => {
    const sliver = qualityReport(meshOf([0, 0, 0, 1, 0, 0, 0.5, 0.001, 0], [0, 1, 2]), 'm');
    expect(sliver.aspect.min).toBeLessThan(0.01);
    expect(sliver.issues.map((i) => i.code)).toContain('slivers');
  });
});
