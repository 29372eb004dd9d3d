import { describe, expect, it } from 'vitest';
import { headersFileRules, pageHeaders } from '../../src/embed/headers-plugin';
import { embedPageHeaders, frameAncestors, isAllowedOrigin, parseOrigins } from '../../src/embed/origins';

describe('parseOrigins', () => {
  it('reads a comma-separated list of origins', () => {
    expect(parseOrigins(' https://shop.example, http://localhost:5183 ,')).toEqual(['https://shop.example', 'http://localhost:5183']);
    expect(parseOrigins('https://shop.example/')).toEqual(['https://shop.example']);
    expect(parseOrigins(undefined)).toEqual([]);
  });

  it('allows * in development only', () => {
    expect(parseOrigins('*', { development: true })).toBe('any');
    expect(() => parseOrigins('*')).toThrow(/development only/);
    expect(() => parseOrigins('https://a.example,*')).toThrow(/development only/);
  });

  it('refuses entries that are not bare origins', () => {
    for (const bad of ['shop.example', 'https://shop.example/widget', 'https://*.example', 'ftp://a.example', 'https://a.example?x=1']) {
      expect(() => parseOrigins(bad), bad).toThrow(/VITE_EMBED_ORIGINS/);
    }
  });
});

describe('isAllowedOrigin', () => {
  it('matches exact origins only', () => {
    const list = parseOrigins('https://shop.example');
    expect(isAllowedOrigin(list, 'https://shop.example')).toBe(true);
    expect(isAllowedOrigin(list, 'http://shop.example')).toBe(false);
    expect(isAllowedOrigin(list, 'https://shop.example:8443')).toBe(false);
    expect(isAllowedOrigin(list, 'https://evil.shop.example')).toBe(false);
    expect(isAllowedOrigin(list, 'null')).toBe(false);
    expect(isAllowedOrigin('any', 'null')).toBe(false);
    expect(isAllowedOrigin('any', 'https://anyone.example')).toBe(true);
  });
});

describe('page headers', () => {
  it('lets the allowed hosts frame embed.html and nobody frame the app', () => {
    const list = parseOrigins('https://a.example,https://b.example');
    expect(frameAncestors(list)).toBe('https://a.example https://b.example');
    expect(frameAncestors([])).toBe("'none'");
    expect(embedPageHeaders(list)).toEqual({
      'Content-Security-Policy': 'frame-ancestors https://a.example https://b.example',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
    expect(pageHeaders('/embed.html?model=x', list)?.['Content-Security-Policy']).toBe('frame-ancestors https://a.example https://b.example');
    expect(pageHeaders('/', list)).toEqual({ 'Content-Security-Policy': "frame-ancestors 'none'" });
    expect(pageHeaders('/index.html', list)).toEqual({ 'Content-Security-Policy': "frame-ancestors 'none'" });
    expect(pageHeaders('/assets/app.js', list)).toBeNull();
  });

  it('writes _headers rules for both pages', () => {
    const rules = headersFileRules(parseOrigins('https://a.example'));
    expect(rules).toContain("/index.html\n  Content-Security-Policy: frame-ancestors 'none'");
    expect(rules).toContain('/embed.html\n  Content-Security-Policy: frame-ancestors https://a.example\n  Cross-Origin-Resource-Policy: cross-origin');
  });
});
