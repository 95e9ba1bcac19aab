// A mistake on the command line: reported as one line on stderr with exit
// code 2 (ExitCode.usage) before anything is sent.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
