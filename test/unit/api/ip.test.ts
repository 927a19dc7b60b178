// The TypeScript twins of CEL's ip()/cidr() must accept and refuse exactly what the apiserver
// does, or a rule's two halves disagree.
import assert from 'node:assert/strict';
import { ip } from '../../../src/api/index.ts';

describe('api ip helpers', function () {
  it('accepts addresses Kubernetes accepts', function () {
    for (const s of [
      '0.0.0.0',
      '203.0.113.10',
      '255.255.255.255',
      '::',
      '::1',
      '2001:db8::10',
      '2001:DB8:0:0:0:0:0:1',
      'fe80::1:2:3:4',
      '64:ff9b::192.0.2.1',
      '1:2:3:4:5:6:7:8',
    ]) {
      assert.ok(ip.isIP(s), s);
    }
  });

  it('refuses what Kubernetes refuses: leading zeros, zones, IPv4-mapped IPv6, junk', function () {
    for (const s of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '203.0.113.256',
      '203.0.113.010',
      '01.2.3.4',
      '+1.2.3.4',
      ' 1.2.3.4',
      '1.2.3.4 ',
      'fe80::1%eth0',
      '::ffff:1.2.3.4',
      '::ffff:102:304',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      'g::1',
      '1.2.3.4/32',
      ':::1',
    ]) {
      assert.equal(ip.isIP(s), false, JSON.stringify(s));
    }
  });

  it('parses CIDRs with host bits, and refuses bad lengths', function () {
    assert.deepEqual(ip.parseCIDR('10.0.0.1/24'), { ip: { family: 4, value: 0x0a000001n }, prefixLength: 24 });
    for (const s of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/08', '2001:db8::/129', '10.0.0.0/', '/24', '::ffff:10.0.0.0/104']) {
      assert.equal(ip.isCIDR(s), false, s);
    }
    assert.ok(ip.isCIDR('0.0.0.0/0'));
    assert.ok(ip.isCIDR('2001:db8::/128'));
  });

  it('masks, contains and orders like the CEL library', function () {
    const c = ip.parseCIDR('198.51.100.17/28');
    assert.ok(c);
    assert.equal(ip.formatCIDR(ip.masked(c)), '198.51.100.16/28');
    const r = ip.cidrRange(c);
    assert.deepEqual([ip.formatIP(r.first), ip.formatIP(r.last)], ['198.51.100.16', '198.51.100.31']);
    const p = (s: string) => ip.parseIP(s) ?? assert.fail(s);
    assert.ok(ip.cidrContainsIP(c, p('198.51.100.31')));
    assert.equal(ip.cidrContainsIP(c, p('198.51.100.32')), false);
    assert.equal(ip.cidrContainsIP(ip.parseCIDR('::/0') ?? assert.fail(), p('1.2.3.4')), false, 'no match across families');
    const outer = ip.parseCIDR('198.51.100.0/24') ?? assert.fail();
    assert.ok(ip.cidrContainsCIDR(outer, c));
    assert.equal(ip.cidrContainsCIDR(c, outer), false);
    assert.ok(ip.compareIP(p('10.0.0.2'), p('10.0.0.10')) < 0);
    assert.ok(ip.compareIP(p('2001:db8::ff'), p('2001:db8::10')) > 0);
    assert.equal(ip.compareIP(p('2001:db8::1'), p('2001:DB8:0::1')), 0);
  });

  it('formats IPv6 canonically (RFC 5952)', function () {
    const f = (s: string) => ip.formatIP(ip.parseIP(s) ?? assert.fail(s));
    assert.equal(f('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
    assert.equal(f('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
    assert.equal(f('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(f('::'), '::');
    assert.equal(f('64:ff9b::192.0.2.1'), '64:ff9b::c000:201');
  });
});
