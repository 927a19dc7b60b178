import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { RequestMetrics } from '../../../src/clients/common/metrics.ts';

describe('client request metrics', function () {
  it('keeps the connections of one registry apart by their connection label', async function () {
    const registry = new Registry();
    const a = new RequestMetrics('vcd_client_', registry, 'VCDConnection/team-a/acme');
    const b = new RequestMetrics('vcd_client_', registry, 'ClusterVCDConnection/provider');
    a.observe('ipSpaces.allocate', 202, 0.02);
    a.observe('ipSpaces.allocate', 202, 0.03);
    b.observe('ipSpaces.allocate', 202, 0.02);
    b.observe('task.get', 'network_error', 1);
    const text = await registry.metrics();
    assert.match(text, /^vcd_client_requests_total\{connection="VCDConnection\/team-a\/acme",operation="ipSpaces\.allocate",status="202"\} 2$/m);
    assert.match(text, /^vcd_client_requests_total\{connection="ClusterVCDConnection\/provider",operation="ipSpaces\.allocate",status="202"\} 1$/m);
    assert.match(text, /^vcd_client_requests_total\{connection="ClusterVCDConnection\/provider",operation="task\.get",status="network_error"\} 1$/m);
    assert.match(
      text,
      /^vcd_client_request_duration_seconds_count\{connection="VCDConnection\/team-a\/acme",operation="ipSpaces\.allocate",status="202"\} 2$/m,
    );
  });

  it('a client without a connection name counts by operation and status only', async function () {
    const registry = new Registry();
    new RequestMetrics('nsx_client_', registry).observe('segments.get', 200, 0.01);
    assert.match(await registry.metrics(), /^nsx_client_requests_total\{operation="segments\.get",status="200"\} 1$/m);
  });
});
