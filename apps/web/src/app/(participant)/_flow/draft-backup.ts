// The browser's copy of a task's draft, written on every change, so a reload or a new tab restores what was typed
// even when the last autosave never reached the server. `synced` says whether the server confirmed this exact
// text: an unsynced backup is newer than the server's draft; a synced one is not (another tab may have moved on).
// `serverSavedAt` is the server's draft version (its draft_saved_at) this browser last saved or loaded: a server
// draft saved after it came from another device or browser (the same participant id continues a session anywhere),
// and reconcileDraft decides by the server's timestamps which text is newer. Nothing is lost: text the other
// device's newer save replaces is kept in draftReplacedKey and shown.
import { draftBackupKey, draftReplacedKey, type DraftValues, type KeyValueStore, type TaskView } from './backend'

interface Backup {
  draft: DraftValues
  editedAt: number
  synced: boolean
  /** the server's draft_saved_at (ms) this browser's text builds on; null: none known */
  serverSavedAt: number | null
}

const EMPTY: DraftValues = { continuation: '', answer: '', easeRating: null, confidence: null }

function rating(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5 ? value : null
}

function asDraft(value: unknown): DraftValues | null {
  if (!value || typeof value !== 'object') return null
  const d = value as Record<string, unknown>
  return {
    continuation: typeof d.continuation === 'string' ? d.continuation : '',
    answer: typeof d.answer === 'string' ? d.answer : '',
    easeRating: rating(d.easeRating),
    confidence: rating(d.confidence),
  }
}

export const sameDraft = (a: DraftValues, b: DraftValues) =>
  a.continuation === b.continuation && a.answer === b.answer && a.easeRating === b.easeRating && a.confidence === b.confidence

/** Whether `a` holds all of `b` and more typed after it (its texts continue b's; b's ratings kept). */
const extendsDraft = (a: DraftValues, b: DraftValues) =>
  a.continuation.startsWith(b.continuation) &&
  a.answer.startsWith(b.answer) &&
  (b.easeRating === null || a.easeRating === b.easeRating) &&
  (b.confidence === null || a.confidence === b.confidence)

export function readBackup(storage: KeyValueStore, assignmentId: string): Backup | null {
  try {
    const raw = JSON.parse(storage.get(draftBackupKey(assignmentId)) ?? 'null') as Partial<Backup> | null
    const draft = asDraft(raw?.draft)
    if (!raw || !draft) return null
    return {
      draft,
      editedAt: typeof raw.editedAt === 'number' ? raw.editedAt : 0,
      synced: raw.synced === true,
      serverSavedAt: typeof raw.serverSavedAt === 'number' ? raw.serverSavedAt : null,
    }
  } catch {
    return null
  }
}

function store(storage: KeyValueStore, assignmentId: string, backup: Backup) {
  storage.set(draftBackupKey(assignmentId), JSON.stringify(backup))
}

export function writeBackup(storage: KeyValueStore, assignmentId: string, draft: DraftValues) {
  const serverSavedAt = readBackup(storage, assignmentId)?.serverSavedAt ?? null
  store(storage, assignmentId, { draft, editedAt: Date.now(), synced: false, serverSavedAt })
}

/** The server confirmed `draft`; the backup is synced if it still holds that text. */
export function markBackupSynced(storage: KeyValueStore, assignmentId: string, draft: DraftValues) {
  const backup = readBackup(storage, assignmentId)
  if (backup && !backup.synced && sameDraft(backup.draft, draft)) store(storage, assignmentId, { ...backup, synced: true })
}

/** The server stored this browser's draft at `savedAt` (its draft_saved_at): what the backup now builds on. */
export function noteServerSave(storage: KeyValueStore, assignmentId: string, savedAt: string) {
  const backup = readBackup(storage, assignmentId)
  const at = Date.parse(savedAt)
  if (backup && Number.isFinite(at) && at > (backup.serverSavedAt ?? -Infinity)) store(storage, assignmentId, { ...backup, serverSavedAt: at })
}

export function clearBackup(storage: KeyValueStore, assignmentId: string) {
  storage.remove(draftBackupKey(assignmentId))
  storage.remove(draftReplacedKey(assignmentId))
}

/** Text typed in this browser that a newer save from another device replaced, kept so nothing is lost. */
export interface ReplacedDraft {
  draft: DraftValues
  /** when it was typed (this browser's clock, ms) */
  editedAt: number
}

export function readReplaced(storage: KeyValueStore, assignmentId: string): ReplacedDraft | null {
  try {
    const raw = JSON.parse(storage.get(draftReplacedKey(assignmentId)) ?? 'null') as Partial<ReplacedDraft> | null
    const draft = asDraft(raw?.draft)
    return raw && draft ? { draft, editedAt: typeof raw.editedAt === 'number' ? raw.editedAt : 0 } : null
  } catch {
    return null
  }
}

export function dismissReplaced(storage: KeyValueStore, assignmentId: string) {
  storage.remove(draftReplacedKey(assignmentId))
}

/**
 * Reconciles this browser's backup with the server's draft of the task the session view shows, before the task's
 * form starts from initialDraft. By the server's timestamps, newest wins:
 * - the server's draft is the one this browser saved or loaded last (not newer than `serverSavedAt`), or there is
 *   none: unsynced text typed here is newer, and stays (initialDraft takes it, and the form saves it);
 * - the server's draft was saved after that (by another device or browser with the same participant id): it wins;
 *   unsynced text typed here that differs is kept under draftReplacedKey and returned, so the page can show it —
 *   unless that text continues the server's (all of it, and more), which only typing here on top of it makes.
 * Either way the backup then records the server version it builds on. Returns the replaced text, if any.
 */
export function reconcileDraft(task: Pick<TaskView, 'assignmentId' | 'draft' | 'draftSavedAt'>, storage: KeyValueStore): ReplacedDraft | null {
  const backup = readBackup(storage, task.assignmentId)
  const server = asDraft(task.draft)
  const serverAt = task.draftSavedAt ? Date.parse(task.draftSavedAt) : Number.NaN
  if (!backup || !server || !Number.isFinite(serverAt)) return null
  if (backup.serverSavedAt !== null && serverAt <= backup.serverSavedAt) return null
  // text typed here on top of the server's (e.g. a save that landed as the page reloaded) holds it all: it stays
  const conflicting = !sameDraft(server, backup.draft) && !extendsDraft(backup.draft, server)
  if (!backup.synced && conflicting) {
    const replaced: ReplacedDraft = { draft: backup.draft, editedAt: backup.editedAt }
    storage.set(draftReplacedKey(task.assignmentId), JSON.stringify(replaced))
    store(storage, task.assignmentId, { draft: server, editedAt: Date.now(), synced: true, serverSavedAt: serverAt })
    return replaced
  }
  // the same text, text here that continues it, or a synced copy the server has moved past: the server's version is
  // the base from now on (initialDraft takes the unsynced text, or the server's)
  store(storage, task.assignmentId, { ...backup, serverSavedAt: serverAt })
  return null
}

/**
 * The draft to start from, and whether the server lacks it: an unsynced local backup wins (it holds typing the
 * server never confirmed), else the server's draft (as new as any synced backup, or newer), else the backup.
 */
export function initialDraft(task: Pick<TaskView, 'assignmentId' | 'draft'>, storage: KeyValueStore): { draft: DraftValues; unsaved: boolean } {
  const backup = readBackup(storage, task.assignmentId)
  const server = asDraft(task.draft)
  if (backup && !backup.synced && !(server && sameDraft(server, backup.draft))) return { draft: backup.draft, unsaved: true }
  if (server) return { draft: server, unsaved: false }
  if (backup) return { draft: backup.draft, unsaved: false }
  return { draft: EMPTY, unsaved: false }
}
