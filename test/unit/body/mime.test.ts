import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guessMimeType } from '../../../src/body/mime.js';

describe('guessMimeType', () => {
  test('common extensions map to their registered types', () => {
    assert.equal(guessMimeType('notes.txt'), 'text/plain');
    assert.equal(guessMimeType('index.html'), 'text/html');
    assert.equal(guessMimeType('data.json'), 'application/json');
    assert.equal(guessMimeType('photo.jpeg'), 'image/jpeg');
    assert.equal(guessMimeType('photo.jpg'), 'image/jpeg');
    assert.equal(guessMimeType('logo.svg'), 'image/svg+xml');
    assert.equal(guessMimeType('report.pdf'), 'application/pdf');
    assert.equal(guessMimeType('app.mjs'), 'text/javascript');
    assert.equal(guessMimeType('module.wasm'), 'application/wasm');
    assert.equal(guessMimeType('font.woff2'), 'font/woff2');
    assert.equal(
      guessMimeType('sheet.xlsx'),
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
  });

  test('the extension is matched case-insensitively', () => {
    assert.equal(guessMimeType('PHOTO.PNG'), 'image/png');
    assert.equal(guessMimeType('Data.Json'), 'application/json');
  });

  test('only the last extension counts and directories are ignored', () => {
    assert.equal(guessMimeType('backup.tar.gz'), 'application/gzip');
    assert.equal(guessMimeType('some.dir/readme'), null);
    assert.equal(guessMimeType('C:\\files.d\\video.MP4'), 'video/mp4');
  });

  test('names without a known extension give null', () => {
    assert.equal(guessMimeType('Makefile'), null);
    assert.equal(guessMimeType('.bashrc'), null);
    assert.equal(guessMimeType('trailing.'), null);
    assert.equal(guessMimeType('file.unknownext'), null);
    assert.equal(guessMimeType(''), null);
  });
});
