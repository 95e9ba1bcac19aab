// Guesses a MIME type from a file name's extension, for multipart file parts
// sent without an explicit type (urllib3 asks Python's `mimetypes` for this).
//
// A compact, fixed table of common extensions: no lookup in /etc/mime.types,
// no content sniffing, no charset parameters. Unknown extensions give `null`
// so the caller can pick its own default (application/octet-stream).

const TYPES: ReadonlyMap<string, string> = new Map([
  // text
  ['txt', 'text/plain'],
  ['text', 'text/plain'],
  ['log', 'text/plain'],
  ['html', 'text/html'],
  ['htm', 'text/html'],
  ['css', 'text/css'],
  ['csv', 'text/csv'],
  ['tsv', 'text/tab-separated-values'],
  ['md', 'text/markdown'],
  ['markdown', 'text/markdown'],
  ['js', 'text/javascript'],
  ['mjs', 'text/javascript'],
  ['cjs', 'text/javascript'],
  ['ics', 'text/calendar'],
  ['vtt', 'text/vtt'],
  // structured data
  ['json', 'application/json'],
  ['map', 'application/json'],
  ['jsonld', 'application/ld+json'],
  ['xml', 'application/xml'],
  ['yaml', 'application/yaml'],
  ['yml', 'application/yaml'],
  ['toml', 'application/toml'],
  ['wasm', 'application/wasm'],
  // images
  ['png', 'image/png'],
  ['jpg', 'image/jpeg'],
  ['jpeg', 'image/jpeg'],
  ['gif', 'image/gif'],
  ['webp', 'image/webp'],
  ['avif', 'image/avif'],
  ['svg', 'image/svg+xml'],
  ['ico', 'image/vnd.microsoft.icon'],
  ['bmp', 'image/bmp'],
  ['tif', 'image/tiff'],
  ['tiff', 'image/tiff'],
  // documents
  ['pdf', 'application/pdf'],
  ['rtf', 'application/rtf'],
  ['doc', 'application/msword'],
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['xls', 'application/vnd.ms-excel'],
  ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ['ppt', 'application/vnd.ms-powerpoint'],
  ['pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  ['odt', 'application/vnd.oasis.opendocument.text'],
  ['ods', 'application/vnd.oasis.opendocument.spreadsheet'],
  ['epub', 'application/epub+zip'],
  // archives
  ['zip', 'application/zip'],
  ['gz', 'application/gzip'],
  ['tgz', 'application/gzip'],
  ['tar', 'application/x-tar'],
  ['bz2', 'application/x-bzip2'],
  ['xz', 'application/x-xz'],
  ['zst', 'application/zstd'],
  ['7z', 'application/x-7z-compressed'],
  ['rar', 'application/vnd.rar'],
  // audio
  ['mp3', 'audio/mpeg'],
  ['wav', 'audio/wav'],
  ['ogg', 'audio/ogg'],
  ['oga', 'audio/ogg'],
  ['opus', 'audio/ogg'],
  ['flac', 'audio/flac'],
  ['m4a', 'audio/mp4'],
  ['aac', 'audio/aac'],
  // video
  ['mp4', 'video/mp4'],
  ['m4v', 'video/mp4'],
  ['webm', 'video/webm'],
  ['ogv', 'video/ogg'],
  ['avi', 'video/x-msvideo'],
  ['mov', 'video/quicktime'],
  ['mkv', 'video/x-matroska'],
  ['mpeg', 'video/mpeg'],
  ['mpg', 'video/mpeg'],
  // fonts
  ['woff', 'font/woff'],
  ['woff2', 'font/woff2'],
  ['ttf', 'font/ttf'],
  ['otf', 'font/otf'],
  // binaries
  ['bin', 'application/octet-stream'],
  ['exe', 'application/octet-stream'],
  ['dll', 'application/octet-stream'],
  ['so', 'application/octet-stream'],
  ['iso', 'application/octet-stream'],
  ['dmg', 'application/octet-stream'],
  ['deb', 'application/vnd.debian.binary-package'],
  ['rpm', 'application/x-rpm'],
  ['jar', 'application/java-archive'],
  ['apk', 'application/vnd.android.package-archive'],
]);

/**
 * The MIME type for `filename`'s extension (case-insensitive), or `null` when
 * the name has no extension or the extension is not in the table.
 * Directory parts (`/` or `\`) are ignored; a leading dot alone (`.bashrc`)
 * marks a hidden file, not an extension.
 */
export function guessMimeType(filename: string): string | null {
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || dot === base.length - 1) return null;
  return TYPES.get(base.slice(dot + 1).toLowerCase()) ?? null;
}
