// `npm run demo` is the README's first command; it must keep working end to end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

describe('npm run demo', function () {
  this.timeout(240_000);

  it('brings up its own control plane, the simulator and the operator, and the examples become Ready', async function () {
    const child = spawn(process.execPath, ['scripts/demo.ts', '--exit-when-ready'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: '/nonexistent/never-used' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, out);
    assert.match(out, /vcentertrust\.vcd-operator\.io\/resource-vcenters\s+True\s+6\/6/);
    assert.match(out, /\[demo\] 13\/13 Ready/);
    assert.match(out, /floatingipclaim\.vcd-operator\.io\/web\s+True\s+203\.0\.113\.\d+/);
    // Two teams' rules on acme-edge, one applied to seg-transit, merged in priority order.
    assert.match(out, /edgefirewallrule\.vcd-operator\.io\/ssh-from-transit\s+True\s+acme-edge\s+Allow\s+\S+\s+1\s/);
    assert.match(out, /edgefirewallrule\.vcd-operator\.io\/allow-https-to-web\s+True\s+acme-edge\s+Allow\s+\S+\s+2\s/);
    assert.match(out, /export KUBECONFIG=\S+/);
  });
});
