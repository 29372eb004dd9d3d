/**
 * Who is asking: the address that rate limits are keyed on.
 *
 * `X-Forwarded-For` is only believed hop by hop from the right, and only while each hop is one of
 * the proxies named in TRUST_PROXY; anything a client writes into the header itself stays to the
 * left of the first untrusted hop and is ignored.
 * https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/X-Forwarded-For#selecting_an_ip_address
 */

interface Ip {
  family: 4 | 6;
  value: bigint;
}

/** An address or a CIDR block, parsed from TRUST_PROXY. */
export interface IpRange {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
}

function parseIpv6Groups(text: string): bigint[] | undefined {
  if (text === '') return [];
  const groups: bigint[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else if (/^[0-9a-f]{1,4}$/i.test(part)) {
      groups.push(BigInt(`0x${part}`));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseIpv6Groups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseIpv6Groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<bigint>(missing).fill(0n), ...tail];
  return groups.reduce((acc, group) => (acc << 16n) | group, 0n);
}

/** Parses an IPv4 or IPv6 address; IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) become IPv4. */
function parseIp(raw: string): Ip | undefined {
  let text = raw.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (!text.includes(':')) {
    const value = parseIpv4(text);
    return value === undefined ? undefined : { family: 4, value };
  }
  const value = parseIpv6(text);
  if (value === undefined) return undefined;
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/**
 * Parses TRUST_PROXY: comma-separated addresses or CIDR blocks (`10.0.0.0/8, ::1`).
 * Throws on an entry that is neither, so a typo cannot silently trust nobody.
 */
export function parseTrustedProxies(text: string): IpRange[] {
  const ranges: IpRange[] = [];
  for (const entry of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [address = '', prefixText] = entry.split('/');
    const ip = parseIp(address);
    const prefix = prefixText === undefined ? undefined : Number(prefixText);
    const bits = ip ? BITS[ip.family] : 0;
    if (
      !ip ||
      (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= bits))
    ) {
      throw new Error(
        `TRUST_PROXY entry "${entry}" is not an IP address or CIDR block; use e.g. 10.0.0.0/8 or ::1.`,
      );
    }
    const p = prefix ?? bits;
    const shift = BigInt(bits - p);
    ranges.push({ family: ip.family, network: (ip.value >> shift) << shift, prefix: p });
  }
  return ranges;
}

function isTrusted(ip: Ip, trusted: readonly IpRange[]): boolean {
  return trusted.some((range) => {
    if (range.family !== ip.family) return false;
    const shift = BigInt(BITS[ip.family] - range.prefix);
    return (ip.value >> shift) << shift === range.network;
  });
}

function formatKey(ip: Ip): string {
  if (ip.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  }
  // One IPv6 subscriber usually holds a whole /64, so that is what a limit counts.
  const groups = [112n, 96n, 80n, 64n].map((s) => ((ip.value >> s) & 0xffffn).toString(16));
  return `${groups.join(':')}::/64`;
}

/**
 * The rate-limit key for a request: the peer address, or — when the peer is a trusted proxy —
 * the rightmost `X-Forwarded-For` hop that is not itself trusted. `unknown` when there is no
 * usable address at all (all such requests then share one limit).
 */
export function clientKey(
  peerAddress: string | undefined,
  forwardedFor: string | undefined,
  trusted: readonly IpRange[],
): string {
  const peer = peerAddress === undefined ? undefined : parseIp(peerAddress);
  if (!peer) return 'unknown';
  if (trusted.length === 0 || !isTrusted(peer, trusted) || !forwardedFor) return formatKey(peer);
  let client = peer;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseIp(hops[i] ?? '');
    if (!hop) break;
    client = hop;
    if (!isTrusted(hop, trusted)) break;
  }
  return formatKey(client);
}
