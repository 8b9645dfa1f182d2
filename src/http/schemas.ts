// JSON schemas shared by the Lanying routes. Every value arrives as a string (see the query
// parser in app.ts); unknown keys are ignored, because real clients send extras (the web demo's
// "imgage_type" typo among them).
const str = (maxLength: number) => ({ type: 'string', maxLength }) as const;

const credentialProps = {
  app_id: str(64),
  'access-token': str(4096),
  user_id: str(40),
  group_id: str(40),
} as const;

export const idProp = str(40);

export const credentialHeaders = {
  type: 'object',
  properties: { app_id: str(64), 'access-token': str(4096) },
} as const;

export function querySchema(props: Record<string, object>, required: string[] = []) {
  return { type: 'object', properties: { ...credentialProps, ...props }, required, additionalProperties: true } as const;
}
