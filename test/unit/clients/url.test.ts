import assert from 'node:assert/strict';
import { redactUrl, urlUserinfoSecret } from '../../../src/clients/common/url.ts';

describe('URLs shown to people', function () {
  it('lose their user name and password', function () {
    assert.equal(redactUrl('https://admin:s3cret@vcd.example.com/x'), 'https://vcd.example.com/x');
    assert.equal(redactUrl('https://admin@vcd.example.com:8443'), 'https://vcd.example.com:8443');
    assert.equal(redactUrl('https://a%40b:p%3Aw@vcd.example.com'), 'https://vcd.example.com');
    // Unparseable URLs too: the text is cut, not parsed.
    assert.equal(redactUrl('https://admin:s3cret@[bad host/'), 'https://[bad host/');
  });
  it('stay as they are without userinfo, also with an @ in the path', function () {
    assert.equal(redactUrl('https://vcd.example.com'), 'https://vcd.example.com');
    assert.equal(redactUrl('https://vcd.example.com/tenant/@acme'), 'https://vcd.example.com/tenant/@acme');
  });
  it('give up the decoded password so server text can be scrubbed of it', function () {
    assert.equal(urlUserinfoSecret('https://admin:p%3Aw0rd@vcd.example.com'), 'p:w0rd');
    assert.equal(urlUserinfoSecret('https://tokenonly@vcd.example.com'), 'tokenonly');
    assert.equal(urlUserinfoSecret('https://vcd.example.com/a@b'), undefined);
  });
});
