// Schemas shared by the Lanying routes, in TypeBox so that one definition both validates a
// request and types its handler (with the type provider, req.query.file_sign is a string).
// Every value arrives as a string (see the query parser in app.ts); every key is optional, so a
// missing one gets the route's own clear message rather than a schema error; unknown keys are
// ignored, because real clients send extras (the web demo's "imgage_type" typo among them).
import { Type, type Static, type TObject, type TOptional, type TProperties, type TString } from 'typebox';

/**
 * One optional query (or header) value: a string of at most maxLength characters. The
 * description is what /openapi.json and /docs say about it.
 */
export const queryValue = (maxLength: number, description?: string): TOptional<TString> =>
  Type.Optional(Type.String(description === undefined ? { maxLength } : { maxLength, description }));

const APP_ID = 'The app (required), as a header or query parameter.';
const ACCESS_TOKEN = 'The caller\'s access token (required), as a header or query parameter: a user token, or an admin token of the app.';

const credentialProps = {
  app_id: queryValue(64, APP_ID),
  'access-token': queryValue(4096, ACCESS_TOKEN),
  user_id: queryValue(40, 'Admin tokens only: act as this user (int64, decimal). A user token sending another user\'s id is refused (10010).'),
  group_id: queryValue(40, 'Admin tokens only: act as the admin of this group (int64, decimal). A user token sending it is refused (10010).'),
};

/** An int64 id in decimal (kept exact: never read as a double). */
export const idProp = queryValue(40);

export const credentialHeaders = Type.Object({ app_id: queryValue(64, APP_ID), 'access-token': queryValue(4096, ACCESS_TOKEN) });

type QueryProps<P extends TProperties> = Omit<typeof credentialProps, keyof P> & P;

/** The credentials plus a route's own keys, all optional; other keys pass untouched. */
export function querySchema<P extends TProperties>(props: P): TObject<QueryProps<P>> {
  const all: TProperties = { ...credentialProps, ...props };
  // Type.Optional on every key, whatever the caller passed: a plain JSON schema object would
  // otherwise land in "required".
  for (const key of Object.keys(all)) all[key] = Type.Optional(all[key]!);
  return Type.Object(all, { additionalProperties: true }) as TObject<QueryProps<P>>;
}

/** What a download may ask of the media pipeline (original, thumbnail, cover, transcode). */
export const mediaProps = {
  image_type: queryValue(4, '1 the original (default), 2 a thumbnail (images and videos), 3 a cover (a representative frame of a video; for an image, a larger preview).'),
  w: queryValue(8, 'Wanted width in pixels (1–10000) for image_type 2 or 3; snapped to a small set of boxes.'),
  h: queryValue(8, 'Wanted height in pixels (1–10000) for image_type 2 or 3; snapped to a small set of boxes.'),
  format: queryValue(8, 'Voice only: amr or mp3, the file converted to that format (made once and kept).'),
  thumbnail_strategy: queryValue(
    4,
    '1 (default): a thumbnail from the external image service when FERRY_IMGPROXY_URL is set (302 to it), else made by Ferry; 2: always made by Ferry.',
  ),
  source: queryValue(32, 'miniprogram: the bytes are streamed (never a redirect) and voice defaults to MP3, which WeChat can play.'),
};

export const mediaQuery = Type.Object(mediaProps, { additionalProperties: true });
export type MediaQuery = Static<typeof mediaQuery>;

export const chatDownloadQuery = querySchema({
  file_sign: queryValue(8192, 'The sign from the download_url (required): it names the file and its conversation. Percent-encoded once more, or with &access-token=… stuck to it, it is still read.'),
  ...mediaProps,
});
export type ChatDownloadQuery = Static<typeof chatDownloadQuery>;

export const avatarDownloadQuery = querySchema({
  object_name: queryValue(1024, 'The avatar\'s name from its download_url (required). Avatars are readable with any valid token of the app.'),
  ...mediaProps,
});
export type AvatarDownloadQuery = Static<typeof avatarDownloadQuery>;
