// The URLs Ferry hands to clients. Clients append "&access-token=…" by string concatenation,
// so file_sign and object_name are always the last parameter and URL-safe.
//
// Every URL made here is made of URL characters only (RFC 3986: letters, digits and
// -._~:/?#[]@!$&'()*+,;=%): the base is checked, and what is appended is base64url, digits, "."
// or percent-encoded. So JSON carries them unescaped (http/slot-answer.ts relies on it).
export const URL_CHARACTERS = /^https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;

export class PublicUrls {
  #base = '';

  /**
   * FERRY_PUBLIC_URL, or http://HOST:PORT; with port 0 the server sets it once it knows the
   * port it got. The API base never ends with "/".
   */
  constructor(base: string) {
    this.base = base;
  }

  get base(): string {
    return this.#base;
  }

  set base(base: string) {
    if (!URL_CHARACTERS.test(base)) throw new RangeError(`the public URL must be an http(s) URL made of URL characters only, got ${JSON.stringify(base)}`);
    this.#base = base;
  }

  upload(slotId: string): string {
    return `${this.#base}/file/slot/${slotId}`;
  }

  chatDownload(sign: string): string {
    return `${this.#base}/file/download/chat?file_sign=${sign}`;
  }

  avatarDownload(objectName: string): string {
    return `${this.#base}/file/download/avatar?object_name=${objectName}`;
  }

  /** Ferry's own token-free URL for a file's bytes; name (with its extension) is for the eye only. */
  blob(capability: string, name: string): string {
    return `${this.#base}/file/blob/${capability}/${encodeURIComponent(name)}`;
  }
}
