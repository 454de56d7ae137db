'use client'

// Where the run's tracker files are and how to open them. The worker writes TensorBoard event files (TRL's metrics
// and ours, under the run_metrics names) to <output dir>/tensorboard beside the checkpoints, so any tool that reads
// event files works on them; wandb runs offline and trackio locally when a config names them (the trainer's
// report_to). The files live on the worker's machine, so the page gives the path and the command, not a download.
import fieldsJson from '@tandem/config/fields.json'
import { useState } from 'react'

const TRACKERS_FIELD = 'report_to'
const DEFAULT_TRACKERS = ((fieldsJson as { name: string; default: unknown }[]).find((f) => f.name === TRACKERS_FIELD)
  ?.default ?? ['tensorboard']) as string[]

/** The trackers a run logs to: its config's report_to (a list, or one name), else the trainer's default. */
export function runTrackers(config: Record<string, unknown>): string[] {
  const value = config[TRACKERS_FIELD]
  if (typeof value === 'string') return [value]
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value
  return DEFAULT_TRACKERS
}

export function RunTrackers({ outputDir, config }: { outputDir: string | null; config: Record<string, unknown> }) {
  const trackers = runTrackers(config)
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null)
  const dir = outputDir ?? null
  const logDir = dir ? `${dir.replace(/\/+$/, '')}/tensorboard` : null
  const command = logDir ? `tensorboard --logdir ${logDir}` : null

  return (
    <section className="card space-y-2 text-sm" aria-labelledby="trackers-heading" data-testid="run-trackers">
      <h2 id="trackers-heading" className="font-semibold">
        Trackers
      </h2>
      {trackers.includes('none') ? (
        <p>This run logs to no tracker (report_to: none): its metrics are the charts above and metrics.jsonl.</p>
      ) : null}
      {trackers.includes('tensorboard') ? (
        logDir && command ? (
          <>
            <p>
              TensorBoard event files are in <code className="break-all">{logDir}</code> on the worker’s machine:
              TRL’s metrics and ours, under the names of the charts above (train/accuracy, train/senior_token_share,
              train/zero_signal_groups, …). Open them there with TensorBoard, or with any tool that reads event files:
            </p>
            <div className="flex flex-wrap gap-2">
              <input
                className="input min-w-0 flex-1 font-mono text-xs"
                readOnly
                aria-label="TensorBoard command"
                value={command}
                onFocus={(e) => e.currentTarget.select()}
              />
              <button
                type="button"
                className="btn-secondary shrink-0"
                onClick={() => {
                  navigator.clipboard.writeText(command).then(
                    () => setCopied('yes'),
                    () => setCopied('failed'),
                  )
                }}
              >
                {copied === 'yes' ? 'Copied' : 'Copy command'}
              </button>
            </div>
            <p className="text-xs text-slate-700" aria-live="polite">
              {copied === 'yes'
                ? 'The command is on your clipboard.'
                : copied === 'failed'
                  ? 'Could not copy: select the command and copy it by hand.'
                  : ''}
            </p>
          </>
        ) : (
          <p>
            The worker writes TensorBoard event files to the run’s folder, under <code>tensorboard/</code>, once the run
            starts; the command to open them appears here then.
          </p>
        )
      ) : null}
      {trackers.includes('wandb') ? (
        <p>
          Weights &amp; Biases, offline (nothing is sent): the run files are in{' '}
          <code className="break-all">{dir ? `${dir}/wandb` : 'the run’s folder, under wandb/'}</code>; upload them
          later with <code>wandb sync</code> on that folder’s offline-run directory.
        </p>
      ) : null}
      {trackers.includes('trackio') ? (
        <p>
          Trackio, local only (no Space): open its dashboard on the worker’s machine with <code>trackio show</code>.
        </p>
      ) : null}
    </section>
  )
}
