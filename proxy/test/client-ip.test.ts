import { describe, expect, it } from 'vitest';
import { clientKey, parseTrustedProxies } from '../src/client-ip.ts';

describe('clientKey', () => {
  const trusted = parseTrustedProxies('10.0.0.0/8, 2001:db8::/32, 127.0.0.1');

  it('uses the peer address when nobody is trusted', () => {
    expect(clientKey('203.0.113.9', '192.0.2.1', [])).toBe('203.0.113.9');
    expect(clientKey('::ffff:203.0.113.9', undefined, [])).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(clientKey('203.0.113.9', '192.0.2.1', trusted)).toBe('203.0.113.9');
  });

  it('walks X-Forwarded-For from the right past trusted proxies', () => {
    expect(clientKey('10.0.0.2', '192.0.2.1', trusted)).toBe('192.0.2.1');
    expect(clientKey('10.0.0.2', '198.51.100.1, 192.0.2.1, 10.9.9.9', trusted)).toBe('192.0.2.1');
    expect(clientKey('::ffff:127.0.0.1', '192.0.2.1', trusted)).toBe('192.0.2.1');
    // All hops trusted: the leftmost is the best we know.
    expect(clientKey('10.0.0.2', '10.0.0.3', trusted)).toBe('10.0.0.3');
    // Garbage written by a trusted hop stops the walk at the last good address.
    expect(clientKey('10.0.0.2', 'nonsense, 10.0.0.7', trusted)).toBe('10.0.0.7');
  });

  it('counts an IPv6 client by its /64', () => {
    expect(clientKey('2a00:1450:4001:81c::200e', undefined, [])).toBe('2a00:1450:4001:81c::/64');
    expect(clientKey('[2a00:1450:4001:81c:1:2:3:4]', undefined, [])).toBe(
      '2a00:1450:4001:81c::/64',
    );
    expect(clientKey('2001:db8::1', '2a00:1450:4001:81c::1', trusted)).toBe(
      '2a00:1450:4001:81c::/64',
    );
  });

  it('answers unknown without a usable address', () => {
    expect(clientKey(undefined, '192.0.2.1', trusted)).toBe('unknown');
    expect(clientKey('not-an-ip', undefined, [])).toBe('unknown');
  });
});

describe('parseTrustedProxies', () => {
  it('reads addresses and CIDR blocks', () => {
    expect(parseTrustedProxies(' 10.0.0.0/8 ,::1,, ')).toHaveLength(2);
    expect(parseTrustedProxies('')).toEqual([]);
  });

  it.each(['10.0.0.0/33', 'localhost', '1.2.3', '::1/129', 'fe80::1::2'])('refuses %s', (entry) => {
    expect(() => parseTrustedProxies(entry)).toThrow(/TRUST_PROXY/);
  });
});
