// GET /file/upload/chat, /file/upload/avatar/user, /file/upload/avatar/group: hand out slots.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { authenticate, authenticateNow, type AuthOptions, type Caller, type Headers, type Query } from '../../auth/credentials.ts';
import { parseFileType, parseToType } from '../../file-types.ts';
import { parseId } from '../../ids.ts';
import { issueAvatarSlot, issueChatSlot, issueChatSlotNow } from '../../pipelines/slots.ts';
import type { Services } from '../../services.ts';
import { ok } from '../envelope.ts';
import { credentialHeaders, querySchema, queryValue } from '../schemas.ts';
import { slotAnswerJson, slotAnswerSchema } from '../slot-answer.ts';

const chatSlotQuery = querySchema({
  file_type: queryValue(
    8,
    'Required. 100 chat file, 101 voice (AMR), 102 image, 103 video, 104 voice (MP3); 200–203 group shared file, voice (AMR), image, video (to_type 2 only). 99 is refused (a web SDK bug).',
  ),
  to_id: queryValue(40, 'Required: the receiving user (to_type 1) or group (to_type 2), int64 in decimal.'),
  to_type: queryValue(4, '1 a user (default), 2 a group (the caller must be a member).'),
});
type ChatSlotQuery = Static<typeof chatSlotQuery>;
const avatarSlotQuery = querySchema({});
const groupAvatarSlotQuery = querySchema({
  group_id: queryValue(40, 'Required: the group whose avatar changes (its owner, one of its admins, or an admin token). Here group_id is the target, not a group to act as.'),
});

/** The answers are written out by slotAnswerJson, not by a serializer compiled from the schema. */
const writtenOut = () => slotAnswerJson;

export async function uploadSlotRoutes(fastify: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const s = opts.services;

  // Per IP before credentials are checked (a flood of bad tokens counts), per user after. The
  // caller at once when this node has the app's keys at hand, else a promise of it.
  const admitted = (req: { ip: string; headers: Headers; query: Query }, options?: AuthOptions): Caller | Promise<Caller> => {
    s.rateLimits.byIp('slots', req.ip);
    const known = authenticateNow(s.apps, req.headers, req.query, options);
    return known === undefined ? authenticate(s.apps, req.headers, req.query, options).then(countedUser) : countedUser(known);
  };
  const countedUser = (caller: Caller): Caller => {
    s.rateLimits.byUser('slots', caller.principal.appId, caller.principal.userId);
    return caller;
  };

  // Most chat slots are answered without a promise: no await, and fastify sends the value as it
  // is (issueChatSlotNow says why).
  const chatSlot = (caller: Caller, query: ChatSlotQuery) => {
    const wanted = { type: parseFileType(query.file_type), toType: parseToType(query.to_type), toId: parseId('to_id', query.to_id) };
    const slot = issueChatSlotNow(s, caller, wanted);
    return slot === undefined ? issueChatSlot(s, caller, wanted).then(ok) : ok(slot);
  };

  app.get(
    '/file/upload/chat',
    {
      schema: {
        tags: ['lanying'],
        summary: 'Upload, step 1: a slot for a chat file, voice, image or video',
        querystring: chatSlotQuery,
        headers: credentialHeaders,
        response: { 200: slotAnswerSchema },
      },
      serializerCompiler: writtenOut,
    },
    (req) => {
      const caller = admitted(req);
      return caller instanceof Promise ? caller.then((c) => chatSlot(c, req.query)) : chatSlot(caller, req.query);
    },
  );

  app.get(
    '/file/upload/avatar/user',
    {
      schema: {
        tags: ['lanying'],
        summary: 'Upload, step 1: a slot for the caller\'s own avatar',
        querystring: avatarSlotQuery,
        headers: credentialHeaders,
        response: { 200: slotAnswerSchema },
      },
      serializerCompiler: writtenOut,
    },
    async (req) => {
    const caller = await admitted(req);
    return ok(await issueAvatarSlot(s, caller, undefined));
    },
  );

  app.get(
    '/file/upload/avatar/group',
    {
      schema: {
        tags: ['lanying'],
        summary: 'Upload, step 1: a slot for a group\'s avatar',
        querystring: groupAvatarSlotQuery,
        headers: credentialHeaders,
        response: { 200: slotAnswerSchema },
      },
      serializerCompiler: writtenOut,
    },
    async (req) => {
    // Here group_id names the group whose avatar changes, not a group to act as.
    const caller = await admitted(req, { actAs: { userId: true, groupId: false } });
    const groupId = parseId('group_id', req.query.group_id);
    return ok(await issueAvatarSlot(s, caller, groupId));
    },
  );
}
