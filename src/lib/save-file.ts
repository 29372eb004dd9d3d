/**
 * Offers `data` as a file download named `fileName`. The object URL lives long enough for the
 * browser to start the download, then is revoked.
 */
export function saveFile(data: Blob, fileName: string): void {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
