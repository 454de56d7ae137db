// The browser's copy of a task's draft, written on every change, so a reload or a new tab restores what was typed
// even when the last autosave never reached the server. `synced` says whether the server confirmed this exact
// text: an unsynced backup is newer than the server's draft; a synced one is not (another tab may have moved on).
import { draftBackupKey, type DraftValues, type KeyValueStore, type TaskView } from './backend'

interface Backup {
  draft: DraftValues
  editedAt: number
  synced: boolean
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

export function readBackup(storage: KeyValueStore, assignmentId: string): Backup | null {
  try {
    const raw = JSON.parse(storage.get(draftBackupKey(assignmentId)) ?? 'null') as Partial<Backup> | null
    const draft = asDraft(raw?.draft)
    if (!raw || !draft) return null
    return { draft, editedAt: typeof raw.editedAt === 'number' ? raw.editedAt : 0, synced: raw.synced === true }
  } catch {
    return null
  }
}

export function writeBackup(storage: KeyValueStore, assignmentId: string, draft: DraftValues) {
  storage.set(draftBackupKey(assignmentId), JSON.stringify({ draft, editedAt: Date.now(), synced: false } satisfies Backup))
}

/** The server confirmed `draft`; the backup is synced if it still holds that text. */
export function markBackupSynced(storage: KeyValueStore, assignmentId: string, draft: DraftValues) {
  const backup = readBackup(storage, assignmentId)
  if (backup && !backup.synced && sameDraft(backup.draft, draft)) {
    storage.set(draftBackupKey(assignmentId), JSON.stringify({ ...backup, synced: true } satisfies Backup))
  }
}

export function clearBackup(storage: KeyValueStore, assignmentId: string) {
  storage.remove(draftBackupKey(assignmentId))
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
