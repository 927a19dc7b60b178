import assert from 'node:assert/strict';
import { mergeOwned } from '../../../src/clients/nsx/merge.ts';
import { toNsxApiError, NsxNotFoundError, NsxStaleRevisionError, NsxApiError } from '../../../src/clients/nsx/errors.ts';

interface E {
  n: string;
  mine?: boolean;
}
const mine = (e: E): boolean => e.mine === true;
const names = (l: E[]): string[] => l.map((e) => e.n);

describe('NSX mergeOwned', () => {
  it('replaces our entries where they were and keeps foreign ones in order', () => {
    const current: E[] = [{ n: 'vcd-1' }, { n: 'ours-old', mine: true }, { n: 'admin' }, { n: 'ours-old2', mine: true }];
    assert.deepEqual(
      names(
        mergeOwned(
          current,
          [
            { n: 'ours-a', mine: true },
            { n: 'ours-b', mine: true },
          ],
          mine,
        ),
      ),
      ['vcd-1', 'ours-a', 'ours-b', 'admin'],
    );
  });

  it('adds our entries before a trailing catch-all when we had none', () => {
    const current: E[] = [{ n: 'vcd-1' }, { n: 'ANY' }];
    assert.deepEqual(names(mergeOwned(current, [{ n: 'ours', mine: true }], mine, (e) => e.n === 'ANY')), ['vcd-1', 'ours', 'ANY']);
    assert.deepEqual(names(mergeOwned([{ n: 'vcd-1' }], [{ n: 'ours', mine: true }], mine)), ['vcd-1', 'ours']);
  });

  it('removes only our entries when nothing is desired', () => {
    assert.deepEqual(names(mergeOwned([{ n: 'a' }, { n: 'x', mine: true }, { n: 'b' }], [], mine)), ['a', 'b']);
    assert.deepEqual(mergeOwned([], [], mine), []);
  });
});

describe('NSX error mapping', () => {
  it('maps 404, stale revisions (412, 409, 400 with stale codes) and others', () => {
    const body = (code: number) => ({ httpStatus: 'X', error_code: code, module_name: 'Policy', error_message: 'msg' });
    assert.ok(toNsxApiError('get', 404, body(500090), (s) => s) instanceof NsxNotFoundError);
    assert.ok(toNsxApiError('put', 412, body(500087), (s) => s) instanceof NsxStaleRevisionError);
    assert.ok(toNsxApiError('put', 409, body(1), (s) => s) instanceof NsxStaleRevisionError);
    assert.ok(toNsxApiError('put', 400, body(500232), (s) => s) instanceof NsxStaleRevisionError);
    const other = toNsxApiError('put', 400, body(255), (s) => s);
    assert.equal(other.constructor, NsxApiError);
    assert.equal(other.errorCode, 255);
    assert.equal(other.moduleName, 'Policy');
    assert.match(other.message, /NSX put failed: HTTP 400 error 255: msg/);
  });
});
