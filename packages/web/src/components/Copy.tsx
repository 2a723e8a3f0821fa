import { useId, useState } from 'preact/hooks';

/** Copies `text`: the Clipboard API where allowed (HTTPS, localhost), else a selection copy. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API here (plain http, an old browser, permission refused): the old way.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.append(area);
    area.select();
    // A plain-HTTP page on a LAN address has no Clipboard API; the old command still works.
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the only copy without HTTPS
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

/** A labelled, read-only value with a Copy button that says what happened. */
export function CopyField({
  label,
  value,
  secret = false,
}: {
  label: string;
  value: string;
  secret?: boolean;
}) {
  const id = useId();
  const [status, setStatus] = useState<'idle' | 'copied' | 'failed'>('idle');
  const onCopy = async (): Promise<void> => {
    const ok = await copyText(value);
    setStatus(ok ? 'copied' : 'failed');
    if (!ok) {
      // Select the value so Ctrl+C / ⌘C copies it.
      const el = document.getElementById(id);
      const range = document.createRange();
      if (el !== null) {
        range.selectNodeContents(el);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
    }
    setTimeout(() => {
      setStatus('idle');
    }, 2000);
  };
  return (
    <div class="copy">
      <span class="copy-label" id={`${id}-l`}>
        {label}
      </span>
      <div class="copy-row">
        <code
          class={secret ? 'copy-value secret' : 'copy-value'}
          id={id}
          aria-labelledby={`${id}-l`}
        >
          {value}
        </code>
        <button
          type="button"
          class="btn small"
          aria-label={`Copy ${label}`}
          onClick={() => {
            void onCopy();
          }}
        >
          {status === 'copied' ? 'Copied ✓' : status === 'failed' ? 'Select and copy' : 'Copy'}
        </button>
      </div>
      <span class="sr-only" aria-live="polite">
        {status === 'copied'
          ? `${label} copied`
          : status === 'failed'
            ? `Could not copy: ${label} is selected, copy it with the keyboard`
            : ''}
      </span>
    </div>
  );
}
