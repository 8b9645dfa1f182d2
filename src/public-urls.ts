// The URLs Ferry hands to clients. Clients append "&access-token=…" by string concatenation,
// so file_sign and object_name are always the last parameter and URL-safe.
export class PublicUrls {
  /**
   * FERRY_PUBLIC_URL, or http://HOST:PORT; with port 0 the server sets it once it knows the
   * port it got. The API base never ends with "/".
   */
  constructor(public base: string) {}

  upload(slotId: string): string {
    return `${this.base}/file/slot/${slotId}`;
  }

  chatDownload(sign: string): string {
    return `${this.base}/file/download/chat?file_sign=${sign}`;
  }

  avatarDownload(objectName: string): string {
    return `${this.base}/file/download/avatar?object_name=${objectName}`;
  }

  /** Ferry's own token-free URL for a file's bytes; name (with its extension) is for the eye only. */
  blob(capability: string, name: string): string {
    return `${this.base}/file/blob/${capability}/${encodeURIComponent(name)}`;
  }
}
