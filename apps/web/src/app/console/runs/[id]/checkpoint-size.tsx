// A checkpoint's size on the run page, with what the folder holds: an intermediate checkpoint (the trainer's
// checkpoint-<step> folder) keeps the optimizer's state beside the weights so training can resume from it — Adam
// keeps two running averages per weight, so the folder is about three times the weights alone — while the final
// checkpoint and an ONNX export hold the weights only.
import { formatBytes } from '@/components/format'

export type CheckpointContents = 'weights-and-optimizer' | 'weights'

/** What a checkpoint folder holds, from its path as the worker records it (runner/catalog.py record_checkpoint). */
export function checkpointContents(path: string): CheckpointContents {
  const folder = path.replace(/\/+$/, '').split('/').at(-1) ?? ''
  return /^checkpoint-\d+$/.test(folder) ? 'weights-and-optimizer' : 'weights'
}

const SHORT: Record<CheckpointContents, string> = {
  'weights-and-optimizer': 'weights + optimizer state',
  weights: 'weights only',
}

export function CheckpointSize({ sizeBytes, path }: { sizeBytes: number; path: string }) {
  const contents = checkpointContents(path)
  return (
    <span className="block" data-contents={contents}>
      <span className="tabular-nums">{formatBytes(sizeBytes)}</span>
      <span className="block text-xs text-slate-600">{SHORT[contents]}</span>
    </span>
  )
}

/** Under the table, once, when an intermediate checkpoint is listed: why it is larger than the final one. */
export function CheckpointSizeNote({ paths }: { paths: readonly string[] }) {
  if (!paths.some((p) => checkpointContents(p) === 'weights-and-optimizer')) return null
  return (
    <p className="px-5 pt-2 pb-3 text-xs text-slate-600" data-testid="checkpoint-size-note">
      An intermediate checkpoint is larger than the final one: it keeps the optimizer’s state beside the weights (Adam holds
      two running averages per weight, about twice the weights again) so that training can resume from it. The final
      checkpoint holds the weights only.
    </p>
  )
}
