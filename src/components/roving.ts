/**
 * Arrow-key navigation for a tab list or radio group (WAI-ARIA): Left/Up and Right/Down move to the
 * previous/next option, Home/End to the ends; the new option is chosen and focused.
 */
export function roving<T>(options: readonly T[], current: T, choose: (value: T) => void) {
  return (event: KeyboardEvent): void => {
    const i = options.indexOf(current);
    const next =
      event.key === 'ArrowRight' || event.key === 'ArrowDown'
        ? (i + 1) % options.length
        : event.key === 'ArrowLeft' || event.key === 'ArrowUp'
          ? (i - 1 + options.length) % options.length
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? options.length - 1
              : -1;
    if (next < 0) return;
    event.preventDefault();
    choose(options[next]!);
    const group = event.currentTarget as HTMLElement;
    // The chosen option re-renders with tabindex 0; focus it once it has.
    queueMicrotask(() => group.querySelectorAll<HTMLElement>('[role="tab"], [role="radio"]')[next]?.focus());
  };
}
