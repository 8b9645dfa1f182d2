// The URLs Ferry hands to clients. Clients append "&access-token=…" by string concatenation,
// so file_sign and object_name are always the last parameter and URL-safe.
export const uploadUrl = (base: string, slotId: string) => `${base}/file/slot/${slotId}`;
export const chatDownloadUrl = (base: string, sign: string) => `${base}/file/download/chat?file_sign=${sign}`;
export const avatarDownloadUrl = (base: string, objectName: string) => `${base}/file/download/avatar?object_name=${objectName}`;
