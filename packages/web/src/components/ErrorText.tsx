/** An error sentence, announced when it appears; nothing when there is none. */
export function ErrorText({ text }: { text: string | null }) {
  if (text === null) return null;
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}
