// Chat slot capabilities (src/auth/slot-capability.ts) as tests take them apart and remake them.
import type { AppKeys } from '../../src/auth/app-registry.ts';
import { newSlotSecret, readSlotCapability, slotCapability, type SlotTerms } from '../../src/auth/slot-capability.ts';

/** The capability at the end of an upload_url. */
export const capabilityOf = (uploadUrl: string): string => uploadUrl.slice(uploadUrl.lastIndexOf('/') + 1);

/** The same upload_url with another capability. */
export const withCapability = (uploadUrl: string, capability: string): string => uploadUrl.slice(0, uploadUrl.lastIndexOf('/') + 1) + capability;

/** The id of the file a capability's upload makes. */
export const capabilityFileId = (capability: string): string => String(readSlotCapability(capability).claims.fid);

/**
 * The same slot with other terms (a past expiry, say): its sign re-signed with the app's key and
 * a new commitment, as only Ferry could make it.
 */
export function reminted(keys: AppKeys, capability: string, change: Partial<SlotTerms>): string {
  const written = readSlotCapability(capability);
  const terms = { expiresAt: written.expiresAt, maxBytes: written.maxBytes, ...change };
  const { nonce, sc } = newSlotSecret(terms);
  return slotCapability(keys.sign({ ...written.claims, sc }), terms, nonce);
}
