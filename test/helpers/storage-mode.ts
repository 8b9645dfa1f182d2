// The storage mode under test. Embedded mode needs nothing; in scale-out mode (the test
// orchestrator sets FERRY_TEST_ENV_FERRY_DATABASE_URL / _FERRY_STORE) every Ferry a test starts
// gets its own fresh PostgreSQL database and bucket, so test files never see each other's data
// and the same files run unchanged in both modes.
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import postgres from 'postgres';

export interface Provisioned {
  /** settings to hand to Ferry: the mode's own, pointing at the fresh database and bucket */
  env: Record<string, string>;
  /** drop what was created */
  release(): Promise<void>;
}

/** Settings that select the storage mode under test; empty means the embedded default. */
export function modeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('FERRY_TEST_ENV_') && v !== undefined) env[k.slice('FERRY_TEST_ENV_'.length)] = v;
  }
  return env;
}

export const isScaleOut = (env: Record<string, string> = modeEnv()) => Boolean(env.FERRY_DATABASE_URL || env.FERRY_STORE);

export function s3ClientFor(env: Record<string, string>): S3Client {
  return new S3Client({
    endpoint: env.FERRY_S3_ENDPOINT,
    region: env.FERRY_S3_REGION || 'us-east-1',
    forcePathStyle: /^(1|true|yes|on)$/i.test(env.FERRY_S3_FORCE_PATH_STYLE ?? ''),
    credentials:
      env.FERRY_S3_ACCESS_KEY && env.FERRY_S3_SECRET_KEY
        ? { accessKeyId: env.FERRY_S3_ACCESS_KEY, secretAccessKey: env.FERRY_S3_SECRET_KEY }
        : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A fresh database named like the one in url, on the same server. */
export async function createDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ferry_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

export async function createBucket(env: Record<string, string>): Promise<{ bucket: string; drop(): Promise<void> }> {
  const bucket = `ferry-t-${randomBytes(6).toString('hex')}`;
  const s3 = s3ClientFor(env);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    bucket,
    async drop() {
      try {
        for (;;) {
          const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
          const keys = (list.Contents ?? []).map((o) => ({ Key: o.Key! }));
          if (keys.length === 0) break;
          await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
        }
        await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        s3.destroy();
      }
    },
  };
}

/** Fresh database and bucket for the mode in env (nothing for embedded settings). */
export async function provision(env: Record<string, string> = modeEnv()): Promise<Provisioned> {
  const out = { ...env };
  const releases: Array<() => Promise<void>> = [];
  try {
    if (env.FERRY_DATABASE_URL) {
      const db = await createDatabase(env.FERRY_DATABASE_URL);
      out.FERRY_DATABASE_URL = db.url;
      releases.push(() => db.drop());
    }
    if (env.FERRY_STORE) {
      const b = await createBucket(env);
      out.FERRY_STORE = `s3://${b.bucket}`;
      releases.push(() => b.drop());
    }
  } catch (err) {
    await Promise.allSettled(releases.map((r) => r()));
    throw err;
  }
  return {
    env: out,
    async release() {
      await Promise.allSettled(releases.map((r) => r()));
    },
  };
}
