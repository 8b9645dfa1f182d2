// Try it: an upload from this browser through the real Lanying flow, as the web SDK does it:
// mint a user token (admin API), ask for a slot (GET /file/upload/chat), POST the file as
// multipart with the `app_id` and `access-token` headers (so a browser preflights it when the
// upload URL is on another origin), then show what a client shows and forward it.
import { useState } from 'preact/hooks';
import { ID, formatBytes, lanying, type Api } from '../api.ts';
import { Field, Form, Secret, Select, useAction, useId } from '../ui.tsx';
import type { PageProps } from '../main.tsx';
import { NoApp } from './groups.tsx';
import { withParams } from './files.tsx';

interface Slot {
  upload_url: string;
  upload_method: string;
  oss_body_param: Record<string, string>;
  download_url: string;
}
interface Uploaded {
  downloadUrl: string;
  token: string;
  fileType: number;
  name: string;
  size: number;
  crossOrigin: boolean;
}

const FILE_TYPES: [string, string][] = [
  ['auto', 'from the file (image 102, video 103, voice 104, else 100)'],
  ['100', '100 chat file'],
  ['101', '101 voice (AMR)'],
  ['102', '102 image'],
  ['103', '103 video'],
  ['104', '104 voice (MP3)'],
];

function fileTypeOf(choice: string, file: File): number {
  if (choice !== 'auto') return Number(choice);
  if (file.type.startsWith('image/')) return 102;
  if (file.type.startsWith('video/')) return 103;
  if (file.type === 'audio/mpeg' || file.type === 'audio/mp3') return 104;
  if (file.type === 'audio/amr' || /\.amr$/i.test(file.name)) return 101;
  return 100;
}

export function TryPage({ api, appId }: PageProps) {
  if (!appId) return <NoApp />;
  return <Try key={appId} api={api} appId={appId} />;
}

function Try({ api, appId }: { api: Api; appId: string }) {
  const fileId = useId('try-file');
  const [sender, setSender] = useState('1001');
  const [toType, setToType] = useState<'1' | '2'>('1');
  const [toId, setToId] = useState('1002');
  const [choice, setChoice] = useState('auto');
  const [file, setFile] = useState<File | null>(null);
  const [step, setStep] = useState('');
  const [done, setDone] = useState<Uploaded | null>(null);

  const upload = useAction(async () => {
    if (!file) return;
    setDone(null);
    setStep('Minting a user token…');
    const { token } = await api.admin<{ token: string }>('POST', `/admin/apps/${encodeURIComponent(appId)}/tokens`, { user_id: sender.trim(), role: 'user', ttl_s: 3600 });
    const fileType = fileTypeOf(choice, file);
    setStep('Asking for an upload slot…');
    const q = new URLSearchParams({ 'access-token': token, app_id: appId, file_type: String(fileType), to_id: toId.trim(), to_type: toType });
    const slot = await lanying<Slot>(`/file/upload/chat?${q.toString()}`);
    setStep('Sending the bytes…');
    const form = new FormData();
    for (const [k, v] of Object.entries(slot.oss_body_param ?? {})) form.append(k, v);
    form.append('file', file, file.name);
    const uploaded = await lanying<unknown>(slot.upload_url, { method: 'POST', body: form, headers: { app_id: appId, 'access-token': token } });
    if (uploaded !== true) throw new Error(`the upload answered ${JSON.stringify(uploaded)}, not true`);
    setStep('');
    setDone({ downloadUrl: slot.download_url, token, fileType, name: file.name, size: file.size, crossOrigin: new URL(slot.upload_url, location.href).origin !== location.origin });
  });

  return (
    <>
      <h1>Try it</h1>
      <p>Uploads a file from this browser exactly as a Lanying web client does, into app <code>{appId}</code>.</p>
      <Form
        label="Upload a file"
        action={upload}
        submit="Upload"
        validate={() =>
          !ID.test(sender.trim()) ? 'The sender user_id must be a positive whole number.' : !ID.test(toId.trim()) ? 'The receiver id must be a positive whole number.' : !file ? 'Choose a file to upload.' : null
        }
      >
        <div class="row">
          <Field label="Sender user_id" name="try-sender" inputMode="numeric" value={sender} onInput={setSender} />
          <Select label="Send to" name="try-to-type" value={toType} options={[['1', 'a user'], ['2', 'a group']]} onChange={setToType} />
          <Field label={toType === '1' ? 'Receiving user_id' : 'group_id'} name="try-to-id" inputMode="numeric" value={toId} onInput={setToId} />
        </div>
        <Select label="file_type" name="try-file-type" value={choice} options={FILE_TYPES} onChange={setChoice} />
        <div class="field">
          <label for={fileId}>File</label>
          <input id={fileId} type="file" onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
        </div>
        {upload.busy && step ? <p role="status">{step}</p> : null}
      </Form>
      {done ? <Result key={done.downloadUrl} api={api} appId={appId} done={done} /> : null}
    </>
  );
}

function Result({ appId, done }: { api: Api; appId: string; done: Uploaded }) {
  const creds = { 'access-token': done.token, app_id: appId };
  const url = (extra: Record<string, string> = {}) => withParams(done.downloadUrl, { ...creds, ...extra });
  const [toType, setToType] = useState<'1' | '2'>('1');
  const [toId, setToId] = useState('');
  const [forwarded, setForwarded] = useState<string | null>(null);
  const forward = useAction(async () => {
    // The web SDK takes everything after "sign=" as it is.
    const sign = done.downloadUrl.slice(done.downloadUrl.indexOf('file_sign=') + 'file_sign='.length);
    const q = `file_sign=${sign}&to_id=${encodeURIComponent(toId.trim())}&to_type=${toType}&app_id=${encodeURIComponent(appId)}&access-token=${encodeURIComponent(done.token)}`;
    setForwarded(await lanying<string>(`/file/upload/forward?${q}`));
  });
  return (
    <section aria-labelledby="try-result">
      <h2 id="try-result">Uploaded</h2>
      <div class="grid">
        <div class="card">
          <p role="status">
            {done.name} ({formatBytes(done.size)}, file_type {done.fileType}) is stored.{' '}
            {done.crossOrigin ? 'The upload URL is on another origin: the browser preflighted the POST and Ferry answered CORS.' : 'The upload URL is on this origin.'}
          </p>
          <Secret label="download_url" value={done.downloadUrl} note="What the client puts into the chat message." />
          <p>
            <a href={url()} target="_blank" rel="noopener noreferrer">
              Download it
            </a>
          </p>
          {done.fileType === 102 ? (
            <figure>
              <img src={url({ image_type: '2' })} alt={`Thumbnail of ${done.name}`} class="preview" />
              <figcaption>Thumbnail (image_type=2)</figcaption>
            </figure>
          ) : null}
          {done.fileType === 103 ? (
            <figure>
              <img src={url({ image_type: '3' })} alt={`Cover of ${done.name}`} class="preview" />
              <figcaption>Cover (image_type=3)</figcaption>
            </figure>
          ) : null}
          {done.fileType === 101 || done.fileType === 104 ? (
            <figure>
              <audio controls preload="none" src={url({ format: 'mp3' })} aria-label={`${done.name} as MP3`} />
              <figcaption>Voice as MP3 (format=mp3)</figcaption>
            </figure>
          ) : null}
        </div>
        <Form label="Forward it" action={forward} submit="Forward" validate={() => (ID.test(toId.trim()) ? null : 'The target id must be a positive whole number.')}>
          <Select label="Forward to" name="fwd-to-type" value={toType} options={[['1', 'a user'], ['2', 'a group']]} onChange={setToType} />
          <Field label={toType === '1' ? 'user_id' : 'group_id'} name="fwd-to-id" inputMode="numeric" value={toId} onInput={setToId} />
          {forwarded ? <Secret label="New download_url" value={forwarded} /> : null}
        </Form>
      </div>
    </section>
  );
}
