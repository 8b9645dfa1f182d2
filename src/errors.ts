// Every failure a client can see is one of these codes. Lanying's documented codes come first;
// the 600xx block is Ferry's own (documented in docs/error-codes.md). Business errors travel in
// the {code, message, data} envelope with HTTP 200, as Lanying does, because its clients read
// the envelope, not the status.

export const Codes = {
  OK: 200,
  BAD_PARAM: 10002,
  NO_TOKEN: 10003,
  BAD_TOKEN: 10008,
  STORAGE: 10009,
  NO_PERMISSION: 10010,
  GROUP_NOT_FOUND: 20001,
  NOT_GROUP_MEMBER: 20002,
  SHARED_FILE_NOT_FOUND: 20022,
  SHARED_FILE_NO_PERMISSION: 20023,
  APP_NOT_FOUND: 40000,

  BAD_FILE_SIGN: 60001,
  NOT_UPLOADED: 60002,
  TOO_LARGE: 60003,
  WRONG_TYPE: 60004,
  SLOT_NOT_FOUND: 60005,
  SLOT_USED: 60006,
  SLOT_BUSY: 60007,
  NO_FILE_PART: 60008,
  MANY_FILE_PARTS: 60009,
  NOT_SUPPORTED: 60010,
  NOT_FOUND: 60011,
  UPLOAD_ABORTED: 60012,
  SHUTTING_DOWN: 60013,
  RANGE_NOT_SATISFIABLE: 60014,
  UPLOAD_TOO_SLOW: 60015,
  TOO_MANY_UPLOADS: 60016,
  // media (6002x): derivatives of images, video and voice
  MEDIA_TOO_LARGE: 60020,
  MEDIA_UNREADABLE: 60021,
  MEDIA_BUSY: 60022,
  MEDIA_TIMEOUT: 60023,
  // links (6003x): Ferry's own token-free download URLs and public links
  BAD_LINK: 60030,
  // membership (6004x): the operator's IM server
  MEMBERSHIP_UNAVAILABLE: 60040,
  // lifecycle (6005x): deletion, quarantine, quotas
  FILE_DELETED: 60050,
  FILE_QUARANTINED: 60051,
  QUOTA_APP_BYTES: 60052,
  QUOTA_USER_DAILY: 60053,
  // operations (6006x)
  RATE_LIMITED: 60060,
  INTERNAL: 60099,
} as const;

export type Code = (typeof Codes)[keyof typeof Codes];

/** A failure meant for the client: its message is safe to show and says what to fix. */
export class FerryError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    /** HTTP status for the rare answers where the protocol needs a real one (416) */
    readonly httpStatus = 200,
  ) {
    super(message);
    this.name = 'FerryError';
  }
}

export const badParam = (message: string) => new FerryError(Codes.BAD_PARAM, message);
export const noPermission = (message: string) => new FerryError(Codes.NO_PERMISSION, message);

/** Too many requests from one client IP or one app user: the answer carries Retry-After. */
export class RateLimitedError extends FerryError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(Codes.RATE_LIMITED, message);
  }
}
