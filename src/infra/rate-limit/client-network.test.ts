import { describe, expect, it } from 'vitest';
import { clientNetwork } from './client-network.js';

describe('the network a rate limit counts a client in', () => {
  it('groups IPv6 clients by their /64, however the address is written', () => {
    const network = clientNetwork('2001:db8:1:2::1');
    expect(network).toBe('2001:db8:1:2::/64');
    for (const same of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:2', '2001:db8:1:2::1.2.3.4']) {
      expect(clientNetwork(same), same).toBe(network);
    }
    expect(clientNetwork('2001:db8:1:3::1')).not.toBe(network);
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('keeps each IPv4 client apart, an IPv4-mapped IPv6 address included', () => {
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('203.0.113.8')).not.toBe(clientNetwork('203.0.113.7'));
  });

  it('names a missing or unreadable address as it is', () => {
    expect(clientNetwork(null)).toBe('unknown');
    expect(clientNetwork('not an address')).toBe('not an address');
  });
});
