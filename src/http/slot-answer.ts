// A slot's answer, {code, message, data: {upload_url, ...}}, written out by hand. JSON.stringify
// spent about 1.2 µs of a slot's ~23 scanning its 800-odd characters for escapes that none of
// them needs; written out, slots rose 7% (alternating pinned pairs, both start orders). Ferry's
// own URLs are made of URL characters only (public-urls.ts checks its base; the rest is
// base64url, digits and "."), so JSON carries them as they are. A direct upload's upload_url
// comes from the S3 client and is escaped as JSON.stringify would. Any other envelope (the
// route's errors, also answered with HTTP 200) goes to JSON.stringify.
import { Type } from 'typebox';
import { Codes } from '../errors.ts';
import type { UploadSlot } from '../pipelines/slots.ts';

/** The answer's schema: documents it in /openapi.json and types the route's handler. */
export const slotAnswerSchema = Type.Object({
  code: Type.Integer({ description: '200 on success, else an error code (docs/error-codes.md)' }),
  message: Type.Union([Type.String(), Type.Null()]),
  data: Type.Union([
    Type.Object({
      upload_url: Type.String({ description: 'Where the bytes go (multipart POST, or a raw PUT); needs no credentials.' }),
      upload_method: Type.Union([Type.Literal('POST'), Type.Literal('PUT')], { description: 'PUT: a direct upload into the bucket.' }),
      oss_body_param: Type.Object({}, { description: 'Always empty: no extra form fields.' }),
      download_url: Type.String({ description: 'The file once uploaded; append &access-token=… (and app_id) to read it.' }),
    }),
    Type.Null(),
  ]),
});

const isSlotAnswer = (e: unknown): e is { code: typeof Codes.OK; data: UploadSlot } => {
  const answer = e as { code?: unknown; data?: { upload_url?: unknown; download_url?: unknown } | null } | null;
  return answer?.code === Codes.OK && typeof answer.data?.upload_url === 'string' && typeof answer.data.download_url === 'string';
};

export function slotAnswerJson(e: unknown): string {
  if (!isSlotAnswer(e)) return JSON.stringify(e);
  const { upload_url: up, upload_method: method, download_url: down } = e.data;
  const upload = method === 'POST' ? `"${up}"` : JSON.stringify(up);
  return `{"code":${Codes.OK},"message":null,"data":{"upload_url":${upload},"upload_method":"${method}","oss_body_param":{},"download_url":"${down}"}}`;
}
