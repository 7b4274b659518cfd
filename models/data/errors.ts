/** A bad data request (unknown corpus, missing package, a passkey length too short). The message names the fix. */
export class DataError extends Error {
  override readonly name = "DataError"
}
