import { describe, expect, it } from 'vitest';
import { marchingCubesCpu } from '../../src/gpu/reference/marching-cubes-cpu';
import { areaAndVolume, componentCount, eulerCharacteristic, isClosed, makeField, normalAgreement } from '../helpers/mesh-metrics';

describe('marchingCubesCpu', () => {
  it('sphere', () => {
    const n = 64, c = 31.5, r = 20;
    const f = makeField([n, n, n], (x, y, z) => r - Math.hypot(x - c, y - c, z - c));
    const m = marchingCubesCpu(f, [n, n, n], 0);
    const { area, volume } = areaAndVolume(m);
    console.log(m.positions.length / 3, m.indices.length / 3, area / (4 * Math.PI * r * r), volume / (4 / 3 * Math.PI * r ** 3), isClosed(m), eulerCharacteristic(m), componentCount(m), normalAgreement(m));
    expect(isClosed(m)).toBe(true);
  });
});
