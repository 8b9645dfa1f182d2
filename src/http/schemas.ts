// Schemas shared by the Lanying routes, in TypeBox so that one definition both validates a
// request and types its handler (with the type provider, req.query.file_sign is a string).
// Every value arrives as a string (see the query parser in app.ts); every key is optional, so a
// missing one gets the route's own clear message rather than a schema error; unknown keys are
// ignored, because real clients send extras (the web demo's "imgage_type" typo among them).
import { Type, type Static, type TObject, type TOptional, type TProperties, type TString } from 'typebox';

/** One optional query (or header) value: a string of at most maxLength characters. */
export const queryValue = (maxLength: number): TOptional<TString> => Type.Optional(Type.String({ maxLength }));

const credentialProps = {
  app_id: queryValue(64),
  'access-token': queryValue(4096),
  user_id: queryValue(40),
  group_id: queryValue(40),
};

export const idProp = queryValue(40);

export const credentialHeaders = Type.Object({ app_id: queryValue(64), 'access-token': queryValue(4096) });

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
  image_type: queryValue(4),
  w: queryValue(8),
  h: queryValue(8),
  format: queryValue(8),
  thumbnail_strategy: queryValue(4),
  source: queryValue(32),
};

export const mediaQuery = Type.Object(mediaProps, { additionalProperties: true });
export type MediaQuery = Static<typeof mediaQuery>;

export const chatDownloadQuery = querySchema({ file_sign: queryValue(8192), ...mediaProps });
export type ChatDownloadQuery = Static<typeof chatDownloadQuery>;

export const avatarDownloadQuery = querySchema({ object_name: queryValue(1024), ...mediaProps });
export type AvatarDownloadQuery = Static<typeof avatarDownloadQuery>;
