import assert from 'node:assert/strict';
import { nextPage, parseLinkHeader } from '../../../src/clients/vcd/paging.ts';

describe('VCD paging', () => {
  it('parses Link entries with several rels and commas inside URLs', () => {
    const header =
      '<https://vcd/cloudapi/1.0.0/x?page=2&pageSize=128&filter=(a==1,a==2)>;rel="lastPage nextPage";type="application/json";model="X", ' +
      '<https://vcd/cloudapi/1.0.0/x?page=1>;rel="firstPage";type="application/json"';
    const links = parseLinkHeader(header);
    assert.equal(links.length, 2);
    assert.equal(links[0]?.href, 'https://vcd/cloudapi/1.0.0/x?page=2&pageSize=128&filter=(a==1,a==2)');
    assert.deepEqual(links[0]?.rels, ['lastPage', 'nextPage']);
    assert.deepEqual(links[1]?.rels, ['firstPage']);
    assert.deepEqual(parseLinkHeader(undefined), []);
  });

  it('follows the nextPage link when there is one', () => {
    const next = nextPage({ page: 1, pageCount: 3, values: [1] }, '<https://vcd/x?page=2>;rel="nextPage"', { page: 1, pageSize: 128 });
    assert.deepEqual(next, { kind: 'link', href: 'https://vcd/x?page=2' });
  });

  it('falls back to resultTotal when the nextPage link is missing', () => {
    const env = { page: 1, pageSize: 128, resultTotal: 300, values: new Array(128).fill(0) };
    assert.deepEqual(nextPage(env, '<https://vcd/x?page=1>;rel="firstPage"', { page: 1, pageSize: 128 }), { kind: 'page', page: 2 });
    assert.deepEqual(nextPage({ ...env, page: 2 }, undefined, { page: 2, pageSize: 128 }), { kind: 'page', page: 3 });
    assert.equal(nextPage({ ...env, page: 3, values: new Array(44).fill(0) }, undefined, { page: 3, pageSize: 128 }), undefined);
  });

  it('uses pageCount when present and stops on an empty page', () => {
    assert.deepEqual(nextPage({ page: 1, pageCount: 2, values: [1] }, undefined, { page: 1, pageSize: 128 }), { kind: 'page', page: 2 });
    assert.equal(nextPage({ page: 1, pageCount: 5, values: [] }, undefined, { page: 1, pageSize: 128 }), undefined);
    assert.equal(nextPage({ values: [1, 2] }, undefined, { page: 1, pageSize: 128 }), undefined);
  });
});
