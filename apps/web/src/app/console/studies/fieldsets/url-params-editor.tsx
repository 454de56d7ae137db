'use client'
// The accepted URL parameters as a list of inputs (the first one names the participant), and whether a link must
// carry that id.
import { Controller, useWatch } from 'react-hook-form'

import { PROLIFIC_PARAMS } from '@/server/api/routers/studies.schema'

import { useDesignForm } from './form-context'

export function UrlParamsEditor() {
  return (
    <div className="space-y-4">
      <UrlParamsList />
      <RequireParticipantId />
    </div>
  )
}

/**
 * Require the id: a link without it is refused (the page explains and stops), and the id resumes the participant's
 * session on any device. Off: a link without it admits an anonymous participant (counted apart on the dashboard),
 * and a second browser with the same id is refused.
 */
function RequireParticipantId() {
  const { control, register, message } = useDesignForm()
  const first = (useWatch({ control, name: 'urlParams' }) ?? [])[0]?.trim()
  const error = message('requireParticipantId')
  const param = first || 'the first parameter'
  return (
    <div>
      <label className="flex items-center gap-2 text-sm font-medium">
        <input
          type="checkbox"
          className="h-4 w-4"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'requireParticipantId-error' : 'requireParticipantId-hint'}
          {...register('requireParticipantId')}
          data-testid="require-participant-id"
        />
        Require a participant id
      </label>
      <p id="requireParticipantId-hint" className="mt-1 text-xs text-slate-600">
        On: a link without {param} is refused with a page that explains, and the same {param} resumes the participant’s session on any device or
        browser (or shows their completion code) — whoever holds the link can continue that session. Off: a link without it admits an anonymous
        participant (the dashboard counts them apart), and a second browser with the same id is refused.
      </p>
      {error ? (
        <p id="requireParticipantId-error" className="field-error" data-testid="requireParticipantId-error">
          {error}
        </p>
      ) : null}
    </div>
  )
}

function UrlParamsList() {
  const { control, errors, message } = useDesignForm()
  const listError = message('urlParams')
  return (
    <Controller
      control={control}
      name="urlParams"
      render={({ field }) => {
        const value = field.value ?? []
        const onChange = field.onChange
        return (
          <fieldset className="space-y-2" aria-describedby={listError ? 'urlParams-error' : 'urlParams-hint'}>
            <legend className="label">Accepted URL parameters</legend>
            <p id="urlParams-hint" className="text-xs text-slate-600">
              Read from the study link and stored with the participant. The first one names the participant (their id on the recruiting
              platform, e.g. PROLIFIC_PID); hashed exports replace it and keep the others.
            </p>
            {value.length === 0 ? <p className="text-sm text-slate-600">None: every participant is anonymous.</p> : null}
            <ol className="space-y-2">
              {value.map((param, i) => {
                const id = `urlParams-${i}`
                const error = message(`urlParams.${i}`)
                const invalid = !!error || !!listError
                return (
                  <li key={i} className="flex flex-wrap items-start gap-2">
                    <div className="min-w-0 flex-1">
                      <label htmlFor={id} className="sr-only">
                        URL parameter {i + 1}
                        {i === 0 ? ' (names the participant)' : ''}
                      </label>
                      <div className="flex items-center gap-2">
                        <input
                          id={id}
                          className="input font-mono"
                          autoComplete="off"
                          value={param}
                          aria-invalid={invalid ? true : undefined}
                          aria-describedby={error ? `${id}-error` : listError ? 'urlParams-error' : undefined}
                          onChange={(e) => onChange(value.map((p, j) => (j === i ? e.target.value : p)))}
                        />
                        {i === 0 ? <span className="shrink-0 text-xs text-slate-600">participant id</span> : null}
                      </div>
                      {error ? (
                        <p id={`${id}-error`} className="field-error" data-testid={`${id}-error`}>
                          {error}
                        </p>
                      ) : null}
                    </div>
                    <button
                      type="button"
                      className="btn-secondary"
                      onClick={() => onChange(value.filter((_, j) => j !== i))}
                      aria-label={`Remove URL parameter ${param || i + 1}`}
                    >
                      Remove
                    </button>
                  </li>
                )
              })}
            </ol>
            {listError ? (
              <p id="urlParams-error" className="field-error" data-testid="urlParams-error">
                {listError}
              </p>
            ) : null}
            <div className="flex flex-wrap gap-2">
              <button type="button" className="btn-secondary" disabled={value.length >= 10} onClick={() => onChange([...value, ''])}>
                Add parameter
              </button>
              <button type="button" className="btn-secondary" onClick={() => onChange([...PROLIFIC_PARAMS])}>
                Reset to Prolific’s
              </button>
            </div>
            {errors.urlParams && !listError && !value.some((_, i) => message(`urlParams.${i}`)) ? (
              <p className="field-error">Check the URL parameters.</p>
            ) : null}
          </fieldset>
        )
      }}
    />
  )
}
