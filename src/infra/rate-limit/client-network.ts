import { isIP } from 'node:net';

/** The eight 16-bit groups of a valid IPv6 address, `::` and an IPv4 tail written out. */
function groups(ipv6: string): number[] {
  let text = ipv6.split('%')[0] as string;
  const tail = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16));
}

/**
 * Who a per-IP rate limit counts: an IPv4 address, or an IPv6 client's /64. One subscriber is
 * usually handed a whole /64 (and often more), so counting each IPv6 address apart would give one
 * client 2^64 fresh limits.
 */
export function clientNetwork(ip: string | null | undefined): string {
  if (!ip) return 'unknown';
  if (isIP(ip.split('%')[0] as string) !== 6) return ip;
  const all = groups(ip);
  // ::ffff:a.b.c.d is an IPv4 client reaching a dual-stack socket.
  if (all.slice(0, 5).every((group) => group === 0) && all[5] === 0xffff) {
    const [high = 0, low = 0] = all.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${all
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}
