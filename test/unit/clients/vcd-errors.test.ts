import assert from 'node:assert/strict';
import { VcdApiError, VcdBusyError, VcdNotFoundError, VcdQuotaExceededError } from '../../../src/clients/vcd/errors.ts';
import { isQuotaMessage, splitRequestId, toVcdApiError } from '../../../src/clients/vcd/errorMapping.ts';

const noScrub = (s: string): string => s;

describe('VCD error mapping', () => {
  it('splits the request id off the message', () => {
    assert.deepEqual(splitRequestId('[ 5b8f-42 ] The entity is busy.'), { requestId: '5b8f-42', message: 'The entity is busy.' });
    assert.deepEqual(splitRequestId('plain'), { requestId: undefined, message: 'plain' });
  });

  it('maps 403 ACCESS_TO_RESOURCE_IS_FORBIDDEN and 404 to VcdNotFoundError', () => {
    const e = toVcdApiError(
      'ipSpaces.get',
      {
        status: 403,
        headers: {},
        data: { minorErrorCode: 'ACCESS_TO_RESOURCE_IS_FORBIDDEN', message: '[ r-1 ] Either you need some or all of the following rights' },
      },
      noScrub,
    );
    assert.ok(e instanceof VcdNotFoundError);
    assert.equal(e.status, 403);
    assert.equal(e.requestId, 'r-1');
    assert.ok(toVcdApiError('x', { status: 404, headers: {}, data: undefined }, noScrub) instanceof VcdNotFoundError);
    // A 403 for a real lack of rights is not "not found".
    const denied = toVcdApiError('x', { status: 403, headers: {}, data: { minorErrorCode: 'OPERATION_DENIED', message: 'no' } }, noScrub);
    assert.ok(!(denied instanceof VcdNotFoundError));
  });

  it('maps BUSY_ENTITY to VcdBusyError with status, code, message and request id', () => {
    const e = toVcdApiError(
      'firewall.put',
      {
        status: 400,
        headers: { 'x-vmware-vcloud-request-id': 'req-9' },
        data: {
          minorErrorCode: 'BUSY_ENTITY',
          message: '[ req-9 ] The entity Ref: com.vmware.vcloud.entity.gateway:1 is busy completing an operation NAT_RULE_CREATE.',
        },
      },
      noScrub,
    );
    assert.ok(e instanceof VcdBusyError);
    assert.equal(e.minorErrorCode, 'BUSY_ENTITY');
    assert.equal(e.requestId, 'req-9');
    assert.equal(e.serverMessage, 'The entity Ref: com.vmware.vcloud.entity.gateway:1 is busy completing an operation NAT_RULE_CREATE.');
    assert.match(e.message, /firewall\.put failed: HTTP 400 BUSY_ENTITY: The entity.*\(request req-9\)/);
  });

  it("reads the legacy API's XML <Error> document as it reads CloudAPI JSON", () => {
    // As VCD answers a legacy call (a task read, a query): attributes, the vCloud namespace, a schema location that makes it long.
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error xmlns="http://www.vmware.com/vcloud/v1.5" minorErrorCode="BUSY_ENTITY" ' +
      'message="[ 7c1e-55 ] The entity Ref: com.vmware.vcloud.entity.ipSpace:9 is busy completing an operation IP_SPACE_ALLOCATE." ' +
      'majorErrorCode="400" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
      `xsi:schemaLocation="http://www.vmware.com/vcloud/v1.5 ${'https://vcd.example.com/api/v1.5/schema/master.xsd '.repeat(8)}"></Error>\n`;
    assert.ok(xml.length > 500);
    const e = toVcdApiError(
      'task.get',
      { status: 400, headers: { 'content-type': 'application/vnd.vmware.vcloud.error+xml;version=37.0' }, data: xml },
      noScrub,
    );
    assert.ok(e instanceof VcdBusyError);
    assert.equal(e.minorErrorCode, 'BUSY_ENTITY');
    assert.equal(e.requestId, '7c1e-55');
    assert.equal(e.serverMessage, 'The entity Ref: com.vmware.vcloud.entity.ipSpace:9 is busy completing an operation IP_SPACE_ALLOCATE.');
    // Text that is neither JSON nor an <Error> still reads as itself, and a body that is not XML at all is not parsed as XML.
    assert.equal(toVcdApiError('x', { status: 502, headers: {}, data: '<html>Bad Gateway</html>' }, noScrub).serverMessage, '<html>Bad Gateway</html>');
    assert.equal(toVcdApiError('x', { status: 503, headers: {}, data: 'try later' }, noScrub).serverMessage, 'try later');
  });

  it('keeps other errors generic and scrubs their message', () => {
    const e = toVcdApiError('x', { status: 500, headers: {}, data: { minorErrorCode: 'INTERNAL_SERVER_ERROR', message: 'leaked sekret-token here' } }, (s) =>
      s.replace('sekret-token', '[REDACTED]'),
    );
    assert.equal(e.constructor, VcdApiError);
    assert.equal(e.serverMessage, 'leaked [REDACTED] here');
    assert.ok(!e.message.includes('sekret-token'));
  });

  it('serialises to JSON with only its own fields', () => {
    const e = toVcdApiError('x', { status: 400, headers: {}, data: { minorErrorCode: 'BAD_REQUEST', message: 'bad' } }, noScrub);
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(e)) as object).sort(), [
      'minorErrorCode',
      'name',
      'operation',
      'serverMessage',
      'service',
      'status',
    ]);
  });

  it('recognises quota refusals and says which quota in the error', () => {
    assert.ok(isQuotaMessage(undefined, 'Floating IP quota of 1 for organization acme exceeded'));
    assert.ok(isQuotaMessage('IP_SPACE_QUOTA_EXCEEDED', 'x'));
    assert.ok(!isQuotaMessage('BAD_REQUEST', 'invalid value'));
    const q = new VcdQuotaExceededError({
      operation: 'ipSpaces.allocate',
      ipSpaceId: 'urn:vcloud:ipSpace:1',
      allocationType: 'FLOATING_IP',
      minorErrorCode: undefined,
      serverMessage: 'quota 1 exceeded',
      requestId: undefined,
    });
    assert.match(q.message, /FLOATING_IP quota .* IP Space urn:vcloud:ipSpace:1 is exhausted: quota 1 exceeded/);
  });
});
