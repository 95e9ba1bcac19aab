import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidHeader } from '../../../src/errors.js';
import { formatMultipartHeaderParam, RequestField } from '../../../src/body/fields.js';

describe('formatMultipartHeaderParam', () => {
  test('quotes the value', () => {
    assert.equal(formatMultipartHeaderParam('name', 'field'), 'name="field"');
  });

  test('percent-encodes only LF, CR and double quotes, as the HTML standard does', () => {
    assert.equal(formatMultipartHeaderParam('filename', 'a"b\r\nc'), 'filename="a%22b%0D%0Ac"');
    assert.equal(formatMultipartHeaderParam('filename', 'back\\slash'), 'filename="back\\slash"');
    assert.equal(formatMultipartHeaderParam('filename', 'tab\there'), 'filename="tab\there"');
  });

  test('keeps non-ASCII characters as they are', () => {
    assert.equal(formatMultipartHeaderParam('filename', 'résumé 日本.txt'), 'filename="résumé 日本.txt"');
  });
});

describe('RequestField', () => {
  test('a new field has its name, data, filename and a copy of the given headers', () => {
    const headers = { 'X-Custom': 'yes' };
    const field = new RequestField('upload', 'content', { filename: 'a.txt', headers });
    assert.equal(field.name, 'upload');
    assert.equal(field.data, 'content');
    assert.equal(field.filename, 'a.txt');
    assert.deepEqual(field.headers, { 'X-Custom': 'yes' });
    headers['X-Custom'] = 'changed';
    assert.equal(field.headers['X-Custom'], 'yes');
  });

  test('headers may be given as a Map or an array of pairs', () => {
    assert.deepEqual(new RequestField('a', 'b', { headers: new Map([['X-A', '1']]) }).headers, {
      'X-A': '1',
    });
    assert.deepEqual(new RequestField('a', 'b', { headers: [['X-B', '2']] }).headers, { 'X-B': '2' });
  });

  test('without a filename the field has filename null', () => {
    assert.equal(new RequestField('a', 1).filename, null);
  });

  test('an unknown option is a TypeError', () => {
    assert.throws(
      () => new RequestField('a', 'b', { fileName: 'x' } as never),
      (error: unknown) => error instanceof TypeError && /unknown option 'fileName'/.test(error.message),
    );
  });

  test('data of an unsupported type is a TypeError', () => {
    assert.throws(() => new RequestField('a', { x: 1 } as never), /got Object/);
    assert.throws(() => new RequestField('a', Number.NaN), TypeError);
  });

  test('makeMultipart sets Content-Disposition with the escaped name and filename', () => {
    const field = new RequestField('my "field"', 'x', { filename: 'evil\r\n.txt' });
    field.makeMultipart({ contentType: 'text/plain' });
    assert.equal(
      field.headers['Content-Disposition'],
      'form-data; name="my %22field%22"; filename="evil%0D%0A.txt"',
    );
    assert.equal(field.headers['Content-Type'], 'text/plain');
  });

  test('makeMultipart takes a disposition type and a location, and leaves out a missing filename', () => {
    const field = new RequestField('f', 'x');
    field.makeMultipart({ contentDisposition: 'attachment', contentLocation: '/where' });
    assert.deepEqual(field.headers, {
      'Content-Disposition': 'attachment; name="f"',
      'Content-Location': '/where',
    });
  });

  test('makeMultipart without a type removes an earlier Content-Type, as urllib3 does', () => {
    const field = new RequestField('f', 'x', { headers: { 'Content-Type': 'text/csv' } });
    field.makeMultipart();
    assert.equal('Content-Type' in field.headers, false);
  });

  test('an empty filename is still sent', () => {
    const field = new RequestField('f', 'x', { filename: '' });
    field.makeMultipart();
    assert.equal(field.headers['Content-Disposition'], 'form-data; name="f"; filename=""');
  });

  test('renderHeaders puts the three content headers first and ends with a blank line', () => {
    const field = new RequestField('f', 'x', {
      headers: { 'X-First': '1', 'Content-Location': 'loc', 'X-Empty': '', 'Content-Type': 'text/plain' },
    });
    field.headers['Content-Disposition'] = 'form-data; name="f"';
    assert.equal(
      field.renderHeaders(),
      'Content-Disposition: form-data; name="f"\r\n' +
        'Content-Type: text/plain\r\n' +
        'Content-Location: loc\r\n' +
        'X-First: 1\r\n' +
        '\r\n',
    );
  });

  test('renderHeaders with no headers is just the blank line', () => {
    assert.equal(new RequestField('f', 'x').renderHeaders(), '\r\n');
  });

  test('renderHeaders refuses a header value that could inject lines', () => {
    const field = new RequestField('f', 'x', { headers: { 'X-Bad': 'a\r\nX-Injected: 1' } });
    assert.throws(() => field.renderHeaders(), InvalidHeader);
    const badName = new RequestField('f', 'x', { headers: { 'Bad:Name': 'v' } });
    assert.throws(() => badName.renderHeaders(), InvalidHeader);
  });

  describe('fromTuples', () => {
    test('a plain value makes a field with no filename and no Content-Type', () => {
      const field = RequestField.fromTuples('name', 'value');
      assert.equal(field.filename, null);
      assert.equal(field.data, 'value');
      assert.equal(field.renderHeaders(), 'Content-Disposition: form-data; name="name"\r\n\r\n');
    });

    test('a [filename, data] tuple guesses the MIME type from the extension', () => {
      const field = RequestField.fromTuples('file', ['photo.PNG', new Uint8Array([1, 2])]);
      assert.equal(field.filename, 'photo.PNG');
      assert.deepEqual(field.data, new Uint8Array([1, 2]));
      assert.equal(field.headers['Content-Type'], 'image/png');
    });

    test('an unknown extension falls back to application/octet-stream', () => {
      assert.equal(
        RequestField.fromTuples('file', ['blob.qqq', 'x']).headers['Content-Type'],
        'application/octet-stream',
      );
      assert.equal(
        RequestField.fromTuples('file', ['', 'x']).headers['Content-Type'],
        'application/octet-stream',
      );
    });

    test('a [filename, data, mimeType] tuple uses the given type', () => {
      const field = RequestField.fromTuples('file', ['photo.png', 'x', 'image/x-custom']);
      assert.equal(
        field.renderHeaders(),
        'Content-Disposition: form-data; name="file"; filename="photo.png"\r\nContent-Type: image/x-custom\r\n\r\n',
      );
    });

    test('a RequestField value is used as it is', () => {
      const ready = new RequestField('own-name', 'x');
      assert.equal(RequestField.fromTuples('other', ready), ready);
    });

    test('malformed tuples are a TypeError', () => {
      assert.throws(() => RequestField.fromTuples('f', ['only-one'] as never), /2 or|\[filename, data\]/);
      assert.throws(() => RequestField.fromTuples('f', [1, 'x'] as never), /filename must be a string/);
      assert.throws(() => RequestField.fromTuples('f', ['a', 5] as never), /file data must be/);
      assert.throws(() => RequestField.fromTuples('f', ['a', 'x', 7] as never), /MIME type must be a string/);
    });
  });
});
