import { ErrorText } from './ErrorText.js';
import { useState } from 'preact/hooks';

/**
 * A masked admin-token field with an Open button. `open` returns a sentence when the token
 * cannot be used, or null when it was taken.
 */
export function TokenForm({ open }: { open: (token: string) => string | null }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        setError(open(value.trim()));
      }}
    >
      <label>
        Admin token
        <input
          name="token"
          type="text"
          class="secret-input"
          spellcheck={false}
          value={value}
          autocomplete="off"
          placeholder="p_… or the producer link"
          required
          onInput={(e) => {
            setValue(e.currentTarget.value);
          }}
        />
      </label>
      <button class="btn primary" type="submit">
        Open
      </button>
      <ErrorText text={error} />
    </form>
  );
}
