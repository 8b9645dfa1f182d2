// Serving originals at /file/download/chat and /file/download/avatar: single byte ranges
// (Android resumes with "bytes=N-", browsers seek audio and video), HEAD, ETag/If-None-Match,
// headers that keep a hostile upload from running on Ferry's origin, and the clear codes for
// broken file_signs, unsafe object_names and variants that are not served yet.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { inspect } from '../helpers/inspect.ts';
import { api, chatSlot, getJson, postMultipart, putRaw, withCreds, type Creds, type Slot } from '../helpers/client.ts';

/** A recognisable AMR voice message: every byte position is distinguishable in a range. */
const VOICE = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.from(Array.from({ length: 9994 }, (_, i) => (i * 7 + 3) % 251))]);
const SIZE = VOICE.length;

/** Percent-encode every character, as a client that encodes an already URL-safe value would. */
const percentAll = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');

const signOf = (downloadUrl: string) => downloadUrl.slice(downloadUrl.indexOf('file_sign=') + 'file_sign='.length);

/** Replace the character at i with a different one from the base64url alphabet. */
function flipAt(s: string, i: number): string {
  const c = s[i]!;
  return s.slice(0, i) + (c === 'A' ? 'B' : 'A') + s.slice(i + 1);
}

let f: TestFerry;
let appId: string;
let creds: Creds;
let voice: Slot;

before(async () => {
  // In scale-out mode Ferry would redirect GETs to the bucket; these tests are about what Ferry
  // itself serves, so it streams there too.
  f = await startTestFerry({ FERRY_DOWNLOAD: 'stream' });
  ({ appId } = await f.createApp('dl'));
  creds = { appId, token: await f.token(appId, '2001') };
  voice = await upload(101, VOICE, '语音.amr');
});
after(() => f.close());

async function upload(fileType: number, bytes: Buffer, filename: string, c: Creds = creds): Promise<Slot> {
  const slot = await chatSlot(f.url, c, { file_type: fileType, to_id: '2002', to_type: 1 });
  const up = await postMultipart(slot.upload_url, bytes, { filename });
  assert.deepEqual(up.body, { code: 200, message: null, data: true });
  return slot;
}

const voiceUrl = (extra = '') => withCreds(voice.download_url, creds, extra);

describe('ranges', () => {
  const ranged = async (range: string) => {
    const res = await fetch(voiceUrl(), { headers: { range } });
    return { res, body: Buffer.from(await res.arrayBuffer()) };
  };

  test('no Range: 200 with the whole file, Accept-Ranges and the real length', async () => {
    const { res, body } = await ranged('');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
    assert.equal(res.headers.get('content-length'), String(SIZE));
    assert.deepEqual(body, VOICE);
  });

  test('bytes=N- (Android resuming): 206 with the rest of the file', async () => {
    const { res, body } = await ranged('bytes=4000-');
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes 4000-${SIZE - 1}/${SIZE}`);
    assert.equal(res.headers.get('content-length'), String(SIZE - 4000));
    assert.deepEqual(body, VOICE.subarray(4000));
  });

  test('bytes=a-b: 206 with exactly those bytes; an end past the file is clamped', async () => {
    const a = await ranged('bytes=100-199');
    assert.equal(a.res.status, 206);
    assert.equal(a.res.headers.get('content-range'), `bytes 100-199/${SIZE}`);
    assert.deepEqual(a.body, VOICE.subarray(100, 200));
    const one = await ranged('bytes=0-0');
    assert.equal(one.res.status, 206);
    assert.deepEqual(one.body, VOICE.subarray(0, 1));
    const clamped = await ranged(`bytes=${SIZE - 10}-${SIZE + 5000}`);
    assert.equal(clamped.res.status, 206);
    assert.equal(clamped.res.headers.get('content-range'), `bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`);
    assert.deepEqual(clamped.body, VOICE.subarray(SIZE - 10));
  });

  test('suffix bytes=-n: 206 with the last n bytes (all of it when n is larger than the file)', async () => {
    const tail = await ranged('bytes=-500');
    assert.equal(tail.res.status, 206);
    assert.equal(tail.res.headers.get('content-range'), `bytes ${SIZE - 500}-${SIZE - 1}/${SIZE}`);
    assert.deepEqual(tail.body, VOICE.subarray(SIZE - 500));
    const more = await ranged(`bytes=-${SIZE * 2}`);
    assert.equal(more.res.status, 206);
    assert.equal(more.res.headers.get('content-range'), `bytes 0-${SIZE - 1}/${SIZE}`);
    assert.deepEqual(more.body, VOICE);
  });

  for (const range of [`bytes=${SIZE}-`, `bytes=${SIZE + 100}-${SIZE + 200}`, 'bytes=-0']) {
    test(`unsatisfiable ${range}: 416 with Content-Range bytes */size and the 60014 envelope`, async () => {
      const { res, body } = await ranged(range);
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('content-range'), `bytes */${SIZE}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      // the JSON is not the file: no download name, no validator, nothing to cache
      assert.equal(res.headers.get('content-disposition'), null);
      assert.equal(res.headers.get('etag'), null);
      assert.equal(res.headers.get('cache-control'), null);
      const env = JSON.parse(body.toString('utf8')) as { code: number; message: string; data: unknown };
      assert.equal(env.code, 60014);
      assert.equal(env.data, null);
      assert.ok(env.message);
    });
  }

  for (const range of ['bytes=0-9,20-29', 'bytes=0-9, -5', 'bytes=200-100', 'items=0-9', 'bytes=abc', 'bytes=-']) {
    test(`a range Ferry does not serve as one part (${range}) gets the full file with 200`, async () => {
      const { res, body } = await ranged(range);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-range'), null);
      assert.deepEqual(body, VOICE);
    });
  }
});

describe('HEAD and caching', () => {
  test('HEAD answers the real Content-Length and headers without a body', async () => {
    const res = await fetch(voiceUrl(), { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(SIZE));
    assert.equal(res.headers.get('content-type'), 'audio/amr');
    assert.ok(res.headers.get('etag'));
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    const ranged = await fetch(voiceUrl(), { method: 'HEAD', headers: { range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-length'), '10');
    assert.equal(ranged.headers.get('content-range'), `bytes 10-19/${SIZE}`);
    assert.equal((await ranged.arrayBuffer()).byteLength, 0);
  });

  test('the ETag is strong, stable across requests and methods, and derived from the content', async () => {
    const a = await fetch(voiceUrl());
    await a.arrayBuffer();
    const b = await fetch(voiceUrl(), { method: 'HEAD' });
    const c = await fetch(voiceUrl(), { headers: { range: 'bytes=0-1' } });
    await c.arrayBuffer();
    const etag = a.headers.get('etag');
    assert.match(etag ?? '', /^"[0-9a-f]+"$/);
    assert.equal(b.headers.get('etag'), etag);
    assert.equal(c.headers.get('etag'), etag);
    assert.ok(createHash('sha256').update(VOICE).digest('hex').startsWith(etag!.slice(1, -1)));
    // the same bytes uploaded again keep the same validator; other bytes get another
    const twin = await upload(101, VOICE, 'twin.amr');
    const other = await upload(101, Buffer.concat([VOICE, Buffer.from([1])]), 'other.amr');
    assert.equal((await fetch(withCreds(twin.download_url, creds), { method: 'HEAD' })).headers.get('etag'), etag);
    assert.notEqual((await fetch(withCreds(other.download_url, creds), { method: 'HEAD' })).headers.get('etag'), etag);
  });

  test('If-None-Match with the ETag (alone, weak, or in a list) answers 304 without a body', async () => {
    const etag = (await fetch(voiceUrl(), { method: 'HEAD' })).headers.get('etag')!;
    for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await fetch(voiceUrl(), { headers: { 'if-none-match': inm } });
      assert.equal(res.status, 304, inm);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    }
    const stale = await fetch(voiceUrl(), { headers: { 'if-none-match': '"0000"' } });
    assert.equal(stale.status, 200);
    assert.deepEqual(Buffer.from(await stale.arrayBuffer()), VOICE);
  });

  test('If-Range with another ETag ignores the Range and sends the whole file', async () => {
    const etag = (await fetch(voiceUrl(), { method: 'HEAD' })).headers.get('etag')!;
    const same = await fetch(voiceUrl(), { headers: { range: 'bytes=5-9', 'if-range': etag } });
    assert.equal(same.status, 206);
    assert.deepEqual(Buffer.from(await same.arrayBuffer()), VOICE.subarray(5, 10));
    const changed = await fetch(voiceUrl(), { headers: { range: 'bytes=5-9', 'if-range': '"another"' } });
    assert.equal(changed.status, 200);
    assert.deepEqual(Buffer.from(await changed.arrayBuffer()), VOICE);
  });
});

describe('safe headers', () => {
  const assertSandboxed = (res: Response) => {
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /(^|;)\s*sandbox\b/);
    assert.match(csp, /default-src 'none'/);
  };

  test('voice is inline with its sniffed type and an RFC 5987 filename (语音.amr)', async () => {
    const res = await fetch(voiceUrl());
    await res.arrayBuffer();
    assert.equal(res.headers.get('content-type'), 'audio/amr');
    const cd = res.headers.get('content-disposition') ?? '';
    assert.match(cd, /^inline;/);
    assert.ok(cd.includes(`filename*=UTF-8''${encodeURIComponent('语音.amr')}`), cd);
    assert.ok(cd.includes('filename="??.amr"'), cd);
    assertSandboxed(res);
  });

  for (const c of [
    { name: 'evil.svg', bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><script>alert(1)</script></svg>') },
    { name: 'evil.html', bytes: Buffer.from('<!DOCTYPE html><html><body><script>fetch("/steal?c="+document.cookie)</script></body></html>') },
    { name: 'evil.xml', bytes: Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') },
  ]) {
    test(`${c.name} uploaded as chat file 100 is served as an attachment with nosniff and a sandbox CSP`, async () => {
      const slot = await upload(100, c.bytes, c.name);
      const res = await fetch(withCreds(slot.download_url, creds));
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), c.bytes);
      const type = res.headers.get('content-type') ?? '';
      assert.doesNotMatch(type, /html|svg|javascript/i);
      const cd = res.headers.get('content-disposition') ?? '';
      assert.match(cd, /^attachment;/);
      assert.ok(cd.includes(`filename="${c.name}"`), cd);
      assertSandboxed(res);
    });
  }

  test('an image is inline with its sniffed type even when uploaded as a plain chat file', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#00ff00' } }).png().toBuffer();
    const slot = await upload(100, png, 'picture.txt');
    const res = await fetch(withCreds(slot.download_url, creds));
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), png);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.match(res.headers.get('content-disposition') ?? '', /^inline;/);
    assertSandboxed(res);
  });

  test('a 250-character emoji file name is cut at a character boundary and still downloads with its name', async () => {
    const name = `${'a'.repeat(199)}${'😀'.repeat(50)}.txt`;
    const bytes = Buffer.from('emoji name\n');
    const slot = await upload(100, bytes, name);
    const res = await fetch(withCreds(slot.download_url, creds));
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    const cd = res.headers.get('content-disposition') ?? '';
    const star = decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(cd)![1]!);
    assert.equal(star, `${'a'.repeat(199)}😀`);
  });

  test('a name with a right-to-left override ("\u202egpj.exe" shows as "exe.jpg") is served without it', async () => {
    const bytes = Buffer.from('MZ not really a program\n');
    const slot = await upload(100, bytes, '\u202egpj.exe');
    const res = await fetch(withCreds(slot.download_url, creds));
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    const cd = res.headers.get('content-disposition') ?? '';
    assert.equal(cd, 'attachment; filename="gpj.exe"');
  });

  test('an inline file is named with the extension of its served type: a JPEG uploaded as x.html is x.jpg; photo.JPG stays', async () => {
    const jpeg = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#0000ff' } }).jpeg().toBuffer();
    for (const [given, served] of [['x.html', 'x.jpg'], ['photo.JPG', 'photo.JPG'], ['no-extension', 'no-extension.jpg']]) {
      const slot = await upload(100, jpeg, given!);
      const res = await fetch(withCreds(slot.download_url, creds));
      await res.arrayBuffer();
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      assert.equal(res.headers.get('content-disposition'), `inline; filename="${served}"`, given);
    }
  });

  test('a cross-origin reader (browser audio seek) may see the range headers', async () => {
    const res = await fetch(voiceUrl(), { headers: { origin: 'https://chat.example.com', range: 'bytes=0-9' } });
    await res.arrayBuffer();
    assert.equal(res.status, 206);
    assert.ok(res.headers.get('access-control-allow-origin'));
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    for (const h of ['content-range', 'content-length', 'etag']) assert.ok(exposed.includes(h), exposed);
  });

  test('a cross-origin reader may see refusals and unknown routes too, and may preflight a download with its headers', async () => {
    const origin = { origin: 'https://chat.example.com' };
    for (const url of [`${f.url}/file/download/chat?file_sign=nope&app_id=x`, `${f.url}/file/no-such-route`]) {
      const res = await fetch(url, { headers: origin });
      const body = (await res.json()) as { code: number };
      assert.notEqual(body.code, 200, url);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', url);
      assert.match(res.headers.get('access-control-expose-headers') ?? '', /x-request-id/, url);
    }
    const pre = await fetch(voiceUrl(), {
      method: 'OPTIONS',
      headers: { ...origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'access-token,app_id,range' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    const allowed = (pre.headers.get('access-control-allow-headers') ?? '').split(/\s*,\s*/);
    for (const h of ['access-token', 'app_id', 'range', 'if-none-match']) assert.ok(allowed.includes(h), allowed.join(','));
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /GET/);
    assert.equal(pre.headers.get('access-control-max-age'), '86400');
  });
});

test('a ready file whose bytes vanished from the store answers 10009 as plain JSON, not as the file', async () => {
  const slot = await upload(100, Buffer.from('soon gone\n'), 'gone.txt');
  const c = f.ferry.services.config;
  const stores = inspect(f.dataDir, {
    ...(c.databaseUrl ? { FERRY_DATABASE_URL: c.databaseUrl } : {}),
    ...(c.store
      ? {
          FERRY_STORE: c.store,
          FERRY_S3_ENDPOINT: c.s3.endpoint ?? '',
          FERRY_S3_REGION: c.s3.region,
          FERRY_S3_ACCESS_KEY: c.s3.accessKey ?? '',
          FERRY_S3_SECRET_KEY: c.s3.secretKey ?? '',
          FERRY_S3_FORCE_PATH_STYLE: String(c.s3.forcePathStyle),
        }
      : {}),
  });
  try {
    const row = await stores.fileBySlot(slot.upload_url.split('/').pop()!);
    assert.ok(row);
    await stores.deleteObject(row.storage_key);
    assert.equal(await stores.readObject(row.storage_key), null);
  } finally {
    await stores.close();
  }
  for (const range of [undefined, 'bytes=2-']) {
    const res = await fetch(withCreds(slot.download_url, creds), { headers: range ? { range } : {} });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    for (const h of ['content-disposition', 'etag', 'cache-control', 'content-range']) assert.equal(res.headers.get(h), null, h);
    const body = (await res.json()) as { code: number; data: unknown };
    assert.equal(body.code, 10009);
    assert.equal(body.data, null);
  }
});

describe('file_sign errors', () => {
  const codeFor = async (sign: string, c: Creds = creds) => (await getJson(withCreds(`${f.url}/file/download/chat?file_sign=${sign}`, c))).body;

  test('download_url ends with file_sign as its only and last parameter, a JWT carrying from_id, to_id and to_type', async () => {
    const u = new URL(voice.download_url);
    assert.equal(u.pathname, '/file/download/chat');
    assert.deepEqual([...u.searchParams.keys()], ['file_sign']);
    assert.ok(voice.download_url.endsWith(`?file_sign=${signOf(voice.download_url)}`));
    const parts = signOf(voice.download_url).split('.');
    assert.equal(parts.length, 3);
    for (const p of parts) assert.match(p, /^[A-Za-z0-9_-]+$/);
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.equal(String(claims.from_id), '2001');
    assert.equal(String(claims.to_id), '2002');
    assert.equal(claims.to_type, 1);
  });

  test('the sign is URL-safe: encoding it once more changes nothing and it still works', async () => {
    const sign = signOf(voice.download_url);
    assert.equal(encodeURIComponent(sign), sign);
    const res = await fetch(withCreds(`${f.url}/file/download/chat?file_sign=${encodeURIComponent(sign)}`, creds));
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), VOICE);
  });

  test('a sign that arrives double-encoded (percent-encoded, then encoded again) still works', async () => {
    const sign = signOf(voice.download_url);
    for (const mangled of [percentAll(sign), encodeURIComponent(percentAll(sign))]) {
      const res = await fetch(withCreds(`${f.url}/file/download/chat?file_sign=${mangled}`, creds));
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), VOICE);
    }
  });

  test('a char flipped in the payload is refused with 60001', async () => {
    const sign = signOf(voice.download_url);
    const [h, p] = sign.split('.') as [string, string, string];
    const body = await codeFor(flipAt(sign, h.length + 1 + Math.floor(p.length / 2)));
    assert.equal(body.code, 60001);
    assert.equal(body.data, null);
  });

  test('a char flipped in the signature is refused with 60001', async () => {
    const sign = signOf(voice.download_url);
    const sigStart = sign.lastIndexOf('.') + 1;
    for (const i of [sigStart, sigStart + 10]) assert.equal((await codeFor(flipAt(sign, i))).code, 60001);
  });

  test('a truncated sign is refused with 60001', async () => {
    const sign = signOf(voice.download_url);
    for (const cut of [sign.slice(0, -5), sign.slice(0, sign.lastIndexOf('.')), sign.slice(0, 20)]) {
      assert.equal((await codeFor(cut)).code, 60001, cut);
    }
  });

  test('garbage where the sign should be is refused with 60001, a missing sign with 10002', async () => {
    for (const junk of ['abc', 'a.b.c', '%00', '..%2F..%2Fetc%2Fpasswd', 'x'.repeat(3000)]) {
      const res = await getJson(withCreds(`${f.url}/file/download/chat?file_sign=${junk}`, creds));
      assert.equal(res.status, 200, junk);
      assert.ok([60001, 10002].includes(res.body.code), `${junk}: ${res.body.code}`);
    }
    assert.equal((await codeFor('')).code, 10002);
  });

  test("a sign from another app is refused with 60001, whichever app's credentials come with it", async () => {
    const { appId: otherApp } = await f.createApp('dl-other');
    const otherCreds = { appId: otherApp, token: await f.token(otherApp, '2001') };
    const theirs = await upload(101, VOICE, 'theirs.amr', otherCreds);
    assert.equal((await codeFor(signOf(theirs.download_url), creds)).code, 60001);
    assert.equal((await codeFor(signOf(voice.download_url), otherCreds)).code, 60001);
    // each sign still works in its own app
    assert.equal((await fetch(withCreds(theirs.download_url, otherCreds))).status, 200);
  });

  test('the sign of a slot whose upload has not finished gets 60002', async () => {
    const slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '2002', to_type: 1 });
    const body = (await getJson(withCreds(slot.download_url, creds))).body;
    assert.equal(body.code, 60002);
    assert.equal(body.data, null);
    assert.match(body.message ?? '', /not been uploaded/);
    const head = await fetch(withCreds(slot.download_url, creds), { method: 'HEAD' });
    assert.ok(head.status < 500);
    // once uploaded, the same URL serves it
    assert.equal((await putRaw(slot.upload_url, Buffer.from('now it is here'))).body.code, 200);
    assert.equal(await (await fetch(withCreds(slot.download_url, creds))).text(), 'now it is here');
  });
});

// The media pipeline makes thumbnails, covers and MP3 copies; what it cannot make for a file
// must still be a clear envelope, never a 5xx or a silent original.
describe('variants a voice file does not have', () => {
  for (const extra of ['&image_type=2', '&image_type=3', '&image_type=2&w=100&h=100', '&image_type=2&format=mp3']) {
    test(`${extra.slice(1)} on an AMR voice answers 60010 with a message, never a 5xx`, async () => {
      const res = await getJson(voiceUrl(extra));
      assert.equal(res.status, 200);
      assert.equal(res.body.code, 60010);
      assert.equal(res.body.data, null);
      assert.ok((res.body.message ?? '').length > 0);
    });
  }

  test('format=mp3 on a voice whose frames are not real AMR answers a clear media code (60021), never a 5xx', async () => {
    const res = await getJson(voiceUrl('&format=mp3'));
    assert.equal(res.status, 200);
    assert.equal(res.body.code, 60021);
    assert.equal(res.body.data, null);
  });

  test('format=amr and image_type=1 on an AMR voice are the original', async () => {
    for (const extra of ['&format=amr', '&image_type=1', '&image_type=1&format=amr']) {
      const res = await fetch(voiceUrl(extra));
      assert.equal(res.status, 200, extra);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), VOICE);
    }
  });
});

describe('avatars by object_name', () => {
  let avatar: Slot;
  let png: Buffer;
  before(async () => {
    const r = await api<Slot>(f.url, '/file/upload/avatar/user', {}, creds);
    assert.equal(r.body.code, 200);
    avatar = r.body.data;
    png = await sharp({ create: { width: 16, height: 16, channels: 4, background: '#336699' } }).png().toBuffer();
    assert.equal((await postMultipart(avatar.upload_url, png, { filename: 'me.png' })).body.code, 200);
  });

  const avatarCode = async (objectName: string) => {
    const res = await getJson(`${f.url}/file/download/avatar?object_name=${objectName}&access-token=${creds.token}&app_id=${appId}`);
    assert.equal(res.status, 200, objectName);
    return res.body;
  };

  test('a valid object_name streams the avatar inline with ranges and safe headers', async () => {
    const res = await fetch(`${avatar.download_url}&access-token=${creds.token}&app_id=${appId}`, { headers: { range: 'bytes=0-7' } });
    assert.equal(res.status, 206);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), png.subarray(0, 8));
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  for (const [what, name] of [
    ['a "/"', 'abc%2Fdef'],
    ['a raw "/"', 'files/a/abc'],
    ['".."', '..'],
    ['a "../" path', '..%2F..%2Fferry.sqlite'],
    ['a NUL', 'abc%00def'],
    ['a backslash', 'abc%5Cdef'],
    ['129 characters', 'a'.repeat(129)],
    ['2000 characters', 'a'.repeat(2000)],
  ] as const) {
    test(`object_name with ${what} is refused with 10002`, async () => {
      const body = await avatarCode(name);
      assert.equal(body.code, 10002);
      assert.equal(body.data, null);
    });
  }

  test('a missing object_name is refused with 10002, an unknown one with 60011', async () => {
    assert.equal((await avatarCode('')).code, 10002);
    assert.equal((await avatarCode('NoSuchAvatar0000000000')).code, 60011);
    assert.equal((await avatarCode('a'.repeat(128))).code, 60011);
  });

  test("a chat file's id is not an avatar name: 60011", async () => {
    const payload = JSON.parse(Buffer.from(signOf(voice.download_url).split('.')[1]!, 'base64url').toString('utf8')) as { fid: string };
    assert.equal((await avatarCode(payload.fid)).code, 60011);
  });

  test('an avatar slot that was never uploaded gets 60002', async () => {
    const r = await api<Slot>(f.url, '/file/upload/avatar/user', {}, creds);
    const res = await getJson(`${r.body.data.download_url}&access-token=${creds.token}&app_id=${appId}`);
    assert.equal(res.body.code, 60002);
  });
});
