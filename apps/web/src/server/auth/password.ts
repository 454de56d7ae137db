// Password hashing with scrypt (node:crypto): a memory-hard KDF, a random 16-byte salt per password, the
// parameters stored with the hash so they can be raised later, and a constant-time comparison.
// Stored format: scrypt$<N>$<r>$<p>$<salt base64>$<key base64>
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'

const N = 2 ** 15
const R = 8
const P = 1
const KEY_LENGTH = 64
const SALT_LENGTH = 16
// scrypt needs 128 * N * r bytes; leave headroom above Node's 32 MiB default
const MAX_MEM = 256 * N * R

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFKC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0) throw new Error('password must not be empty')
  const salt = randomBytes(SALT_LENGTH)
  const key = await scrypt(password, salt, KEY_LENGTH, { N, r: R, p: P, maxmem: MAX_MEM })
  return ['scrypt', N, R, P, salt.toString('base64'), key.toString('base64')].join('$')
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  if (![n, r, p].every((v) => Number.isSafeInteger(v) && v > 0) || n > 2 ** 20 || r > 32 || p > 16) return false
  const salt = Buffer.from(parts[4] ?? '', 'base64')
  const expected = Buffer.from(parts[5] ?? '', 'base64')
  if (salt.length === 0 || expected.length < 16) return false
  const actual = await scrypt(password, salt, expected.length, { N: n, r, p, maxmem: 256 * n * r })
  return timingSafeEqual(actual, expected)
}

/** A hash of a random password: verifying against it costs what a real check costs (unknown e-mails). */
let dummyHash: Promise<string> | undefined
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'))
  return dummyHash
}
