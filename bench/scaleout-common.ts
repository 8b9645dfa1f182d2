// What the scale-out comparisons share: the local PostgreSQL and Ceph RGW (started from
// .ci/services like the tests do, stopped again at exit when this run started them), and a
// fresh database and bucket per comparison, handed to Ferry as FERRY_* settings.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { repoRoot } from './lib/ferry.ts';
import type { Need } from './lib/types.ts';

const PG_DIR = process.env.FERRY_PG_DIR || '/tmp/ferry-pg';
const CEPH_DIR = process.env.FERRY_CEPH_DIR || '/tmp/ferry-ceph';
const services = path.join(repoRoot, '.ci', 'services');

function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

let ready: { pg: Record<string, string>; s3: Record<string, string> } | null = null;

/** Starts PostgreSQL and Ceph RGW unless they run; null when up, else why not. */
export const needScaleOutServices: Need = () => {
  if (ready) return null;
  const wasRunning = fs.existsSync(path.join(PG_DIR, 'data', 'postmaster.pid')) && fs.existsSync(path.join(CEPH_DIR, 'run', 'osd.0.pid'));
  for (const script of ['pg-start.sh', 'ceph-start.sh']) {
    const res = spawnSync('bash', [path.join(services, script)], { encoding: 'utf8' });
    if (res.status !== 0) return `.ci/services/${script} failed (it needs root for apt-get and PostgreSQL 15): ${res.stderr.trim().split('\n').pop()}`;
  }
  if (!wasRunning) {
    process.once('exit', () => {
      spawnSync('bash', [path.join(services, 'ceph-stop.sh')]);
      spawnSync('bash', [path.join(services, 'pg-stop.sh')]);
    });
  }
  ready = { pg: readEnvFile(path.join(PG_DIR, 'env')), s3: readEnvFile(path.join(CEPH_DIR, 'env')) };
  return null;
};

export function s3Settings(): Record<string, string> {
  if (!ready) throw new Error('scale-out services are not up');
  return ready.s3;
}

export function s3Client(): S3Client {
  const s = s3Settings();
  return new S3Client({
    endpoint: s.FERRY_S3_ENDPOINT,
    region: s.FERRY_S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: s.FERRY_S3_ACCESS_KEY!, secretAccessKey: s.FERRY_S3_SECRET_KEY! },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A fresh database and bucket; the FERRY_* settings of a scale-out node using them. */
export async function freshScaleOut(): Promise<{ env: Record<string, string>; bucket: string; drop(): Promise<void> }> {
  if (!ready) throw new Error('scale-out services are not up');
  const name = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ready.pg.FERRY_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ready.pg.FERRY_DATABASE_URL!);
  url.pathname = `/${name}`;
  const bucket = name.replace(/_/g, '-');
  const s3 = s3Client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
  const pgUrl = ready.pg.FERRY_DATABASE_URL!;
  return {
    env: { ...ready.s3, FERRY_DATABASE_URL: url.toString(), FERRY_STORE: `s3://${bucket}`, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    bucket,
    /** drop the database and empty and delete the bucket (gigabytes after the upload runs) */
    async drop() {
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
      const s3c = s3Client();
      try {
        for (;;) {
          const list = await s3c.send(new ListObjectsV2Command({ Bucket: bucket }));
          const keys = (list.Contents ?? []).map((o) => ({ Key: o.Key! }));
          if (keys.length === 0) break;
          await s3c.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
        }
        await s3c.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        s3c.destroy();
      }
    },
  };
}
