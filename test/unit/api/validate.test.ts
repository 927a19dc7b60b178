// The operator's own validation: every row of the shared table (test/unit/api/cases.ts) that the
// apiserver rejects, the operator rejects too, with the same message and a field path; valid
// specs pass; operator-only checks catch what CEL does not.
import assert from 'node:assert/strict';
import {
  API_VERSION,
  InvalidSpecError,
  kinds,
  Reasons,
  validateClusterVCDConnection,
  validateEdgeFirewallRule,
  validateFloatingIPClaim,
  validateIPPrefixClaim,
  validateEdgeGatewayUplink,
  validateEdgeStaticRoute,
  validateTrafficMeter,
  validateIPSpace,
  validateNSXConnection,
  validateVCDConnection,
  validateVCenterTrust,
  type ValidationResult,
} from '../../../src/api/index.ts';
import { toOpenAPI } from '../../../src/api/openapi.ts';
import { ajv } from '../../../src/api/validate.ts';
import { accepted, clean, operatorMessage, operatorOnly, rejected, type KindName } from './cases.ts';

const validators: Record<KindName, { validate(obj: unknown, old?: unknown): ValidationResult<unknown> }> = {
  VCDConnection: validateVCDConnection,
  ClusterVCDConnection: validateClusterVCDConnection,
  IPSpace: validateIPSpace,
  FloatingIPClaim: validateFloatingIPClaim,
  IPPrefixClaim: validateIPPrefixClaim,
  VCenterTrust: validateVCenterTrust,
  EdgeFirewallRule: validateEdgeFirewallRule,
  NSXConnection: validateNSXConnection,
  EdgeStaticRoute: validateEdgeStaticRoute,
  EdgeGatewayUplink: validateEdgeGatewayUplink,
  TrafficMeter: validateTrafficMeter,
};

function object(kind: KindName, spec: Record<string, unknown>) {
  return { apiVersion: API_VERSION, kind, metadata: { name: 'x', namespace: 'team-a' }, spec: clean(spec) };
}

function run(c: { kind: KindName; spec: Record<string, unknown>; from?: Record<string, unknown> }): ValidationResult<unknown> {
  const v = validators[c.kind];
  if (c.from) {
    const created = v.validate(object(c.kind, c.from));
    assert.ok(created.valid, `the spec before the update must be valid: ${created.valid ? '' : created.message}`);
    return v.validate(object(c.kind, c.spec), object(c.kind, c.from));
  }
  return v.validate(object(c.kind, c.spec));
}

describe('api validators', function () {
  // The validators skip the meta-schema check when they compile (start-up time); it is made here.
  describe("every kind's schema is valid JSON Schema", function () {
    for (const k of kinds) {
      it(k.kind, function () {
        const a = ajv({ validateSchema: true });
        assert.ok(a.validateSchema(toOpenAPI(k.schema, 'ajv')), a.errorsText());
      });
    }
    it('a broken schema is caught', function () {
      const a = ajv({ validateSchema: true });
      assert.equal(a.validateSchema({ type: 'object', properties: { x: { type: 'strin' } } }), false);
    });
  });

  describe('reject what the apiserver rejects, with the same message', function () {
    for (const c of rejected) {
      it(`${c.kind}: ${c.name}`, function () {
        const r = run(c);
        assert.equal(r.valid, false, 'expected the spec to be refused');
        if (r.valid) return;
        // Exactly one problem: a broken field must not set off unrelated rules as well.
        assert.equal(r.problems.length, 1, `expected one problem, got: ${r.message}`);
        assert.equal(r.problems[0]?.field, c.field);
        assert.ok(r.problems[0]?.message.includes(operatorMessage(c.message)), `"${r.problems[0]?.message}" should contain "${operatorMessage(c.message)}"`);
      });
    }
  });

  describe('accept valid specs', function () {
    for (const c of accepted) {
      it(`${c.kind}: ${c.name}`, function () {
        const r = run(c);
        assert.ok(r.valid, r.valid ? '' : r.message);
      });
    }
  });

  describe('catch what admission lets through (InvalidSpec)', function () {
    for (const c of operatorOnly) {
      it(`${c.kind}: ${c.name}`, function () {
        const r = run(c);
        assert.equal(r.valid, false);
        if (r.valid) return;
        assert.deepEqual(
          r.problems.map((p) => [p.field, p.message]),
          [[c.field, operatorMessage(c.message)]],
        );
      });
    }
  });

  it('skips immutability rules on create, as the apiserver does', function () {
    // The same spec that is refused as a change is fine as a new object.
    const spec = { connectionRef: { kind: 'VCDConnection', name: 'acme' }, ipSpace: { name: 'public-ips' }, address: '203.0.113.11' };
    assert.ok(validateFloatingIPClaim.validate(object('FloatingIPClaim', spec)).valid);
  });

  it('reports every problem of an object at once, each with its field', function () {
    const r = validateIPSpace.validate(
      object('IPSpace', {
        connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' },
        type: 'Private',
        internalScope: ['10.0.0.0/24'],
        ipRanges: [
          { start: '10.0.0.9', end: '10.0.0.1' },
          { start: '10.1.0.1', end: '10.1.0.2' },
        ],
      }),
    );
    assert.equal(r.valid, false);
    if (r.valid) return;
    assert.deepEqual(r.problems.map((p) => p.field).sort(), ['spec.ipRanges', 'spec.ipRanges[0]', 'spec.org']);
    assert.match(r.message, /^spec\.org: org is required when type is Private.*; /);
  });

  it('reports unknown fields, which the apiserver would drop silently', function () {
    const r = validateFloatingIPClaim.validate(
      object('FloatingIPClaim', { connectionRef: { kind: 'VCDConnection', name: 'a' }, ipSpace: { name: 'p' }, adress: '203.0.113.10' }),
    );
    assert.equal(r.valid, false);
    if (r.valid) return;
    assert.deepEqual(r.problems, [{ field: 'spec.adress', message: 'unknown field; check its spelling with kubectl explain' }]);
  });

  it('checks the envelope: apiVersion, kind and a spec', function () {
    const r = validateFloatingIPClaim.validate({ apiVersion: 'vcd-operator.io/v1', kind: 'FloatingIPClaim', metadata: {} });
    assert.equal(r.valid, false);
    if (r.valid) return;
    assert.deepEqual(r.problems.map((p) => p.field).sort(), ['apiVersion', 'spec']);
  });

  it('accepts a status written by the operator, and refuses a malformed condition', function () {
    const base = object('FloatingIPClaim', { connectionRef: { kind: 'VCDConnection', name: 'a' }, ipSpace: { name: 'p' } });
    const condition = {
      type: 'Ready',
      status: 'True',
      reason: 'Allocated',
      message: 'allocated 203.0.113.10',
      lastTransitionTime: '2026-11-21T05:00:00Z',
      observedGeneration: 1,
    };
    const good = {
      ...base,
      status: {
        observedGeneration: 1,
        conditions: [condition],
        address: '203.0.113.10',
        allocationId: 'urn:vcloud:ipSpaceIpAllocation:1',
        ipSpaceId: 'urn:vcloud:ipSpace:1',
        ipSpaceName: 'p',
        org: 'acme',
      },
    };
    assert.ok(validateFloatingIPClaim.validate(good).valid);
    const bad = { ...base, status: { conditions: [{ ...condition, reason: 'not camel case' }] } };
    const r = validateFloatingIPClaim.validate(bad);
    assert.equal(r.valid, false);
    if (r.valid) return;
    assert.equal(r.problems[0]?.field, 'status.conditions[0].reason');
    const twice = { ...base, status: { conditions: [condition, { ...condition, status: 'False' }] } };
    const r2 = validateFloatingIPClaim.validate(twice);
    assert.equal(r2.valid, false);
    if (r2.valid) return;
    assert.equal(r2.problems[0]?.field, 'status.conditions[1]');
  });

  it('assert returns the typed object or throws InvalidSpecError with the problems', function () {
    const ok = validateIPPrefixClaim.assert(
      object('IPPrefixClaim', { connectionRef: { kind: 'VCDConnection', name: 'a' }, ipSpace: { name: 'p' }, prefixLength: 28 }),
    );
    assert.equal(ok.spec.prefixLength, 28);
    assert.throws(
      () => validateIPPrefixClaim.assert(object('IPPrefixClaim', { connectionRef: { kind: 'VCDConnection', name: 'a' }, ipSpace: { name: 'p' } })),
      (err: unknown) => {
        assert.ok(err instanceof InvalidSpecError);
        assert.equal(err.reason, Reasons.InvalidSpec);
        assert.equal(err.problems.length, 1);
        assert.match(err.message, /^spec: set prefixLength/);
        return true;
      },
    );
  });
});
